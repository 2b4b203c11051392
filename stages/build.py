"""Stage build: the training set of one method."""

from pathlib import Path

import typer

from radis.build import MethodConfig, build
from radis.cli import base, method_name, params, stage_errors
from radis.io import read_table, write_table
from radis.schemas import RATIONALE, SFT, TRANSLATION

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: str,
    data: Path = Path("data/fetch/translation.parquet"),
    rationales: Path = Path("data/rationales/rationales.parquet"),
    out_dir: Path = Path("data/build"),
) -> None:
    """Write the training set of METHOD to OUT_DIR/METHOD.parquet."""
    with stage_errors():
        method_name(params("methods"), method)
        cfg, seed = params(f"build.{method}", MethodConfig), base().seed
        rows = read_table(data, TRANSLATION)
        train = rows[rows.split == "train"].reset_index(drop=True)
        extra = read_table(rationales, RATIONALE) if cfg.recipe == "radis" else None
        write_table(build(cfg, train, extra, seed), out_dir / f"{method}.parquet", SFT)


if __name__ == "__main__":
    app()
