"""Stage build: the training set of one method."""

import contextlib
from pathlib import Path

import typer

from radis.cli import MethodName, stage_errors
from radis.core.config import PARAMS, parse
from radis.core.io import RadisError, read_table, write_table
from radis.core.params import base, method_name, params
from radis.core.schemas import RATIONALE, SELFGEN, SFT, TRAIN_SET, TRANSLATION
from radis.data.build import MethodConfig, build, needs
from radis.sdrrl.recipes import RECIPES as SDRRL_RECIPES
from radis.sdrrl.recipes import SdrrlMethodConfig, build_sdrrl, read_inputs
from radis.sdrrl.selfanswer import SelfAnswerConfig

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: MethodName,
    data: Path = Path("data/fetch"),
    rationales_dir: Path = Path("data/rationales"),
    selfgen_dir: Path = Path("data/selfgen"),
    sdrrl_dir: Path = Path("data/sdrrl"),
    out_dir: Path = Path("data/build"),
) -> None:
    """Write the training set of METHOD to OUT_DIR/METHOD.parquet."""
    with stage_errors():
        method_name(params("methods"), method)
        entry = params(f"build.{method}")
        if isinstance(entry, dict) and entry.get("recipe") in SDRRL_RECIPES:
            cfg, b = parse(SdrrlMethodConfig, entry, f"{PARAMS}: build.{method}"), base()
            with hint("SDRRL's data stages write empty tables unless selfanswer.enabled: true"):
                inputs = read_inputs(cfg, b.languages, sdrrl_dir, data / "parallel.parquet")
            inputs.source = params("selfanswer", SelfAnswerConfig).source_language
            write_table(build_sdrrl(cfg, inputs, b.seed), out_dir / f"{method}.parquet", TRAIN_SET)
            return
        cfg, seed = params(f"build.{method}", MethodConfig), base().seed
        rows = read_table(data / "translation.parquet", TRANSLATION)
        train = rows[rows.split == "train"].reset_index(drop=True)
        sources = {
            "rationales": (rationales_dir / f"{cfg.rationales}.parquet", RATIONALE),
            "instructions": (data / "instructions.parquet", SFT),
            "translate": (selfgen_dir / "translate.parquet", SELFGEN),
            "rewrite": (selfgen_dir / "rewrite.parquet", SELFGEN),
        }
        with hint("selfgen@<kind> writes an empty table unless selfgen.kinds lists the kind"):
            extra = read_table(*sources[needs(cfg)]) if needs(cfg) else None
        write_table(build(cfg, train, extra, seed), out_dir / f"{method}.parquet", TRAIN_SET)


@contextlib.contextmanager
def hint(why: str):
    """Add ``why`` to an empty-table error: the usual cause is a data stage switched off."""
    try:
        yield
    except RadisError as err:
        if str(err).endswith("table is empty"):
            raise RadisError(f"{err} ({why})") from None
        raise


if __name__ == "__main__":
    app()
