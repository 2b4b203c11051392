"""Stage filter: keep the translations into one language that pass QE (τ) and are on target."""

from pathlib import Path

import typer

from radis.cli import skip_sdrrl, stage_errors
from radis.core.io import read_table, write_json, write_table
from radis.core.params import base, params
from radis.core.schemas import SDRRL_KEPT, SDRRL_MT
from radis.data.hub import commit_metrics
from radis.sdrrl.filter import FilterConfig, filter_language
from radis.sdrrl.machine_translate import target_language

app = typer.Typer(add_completion=False)


@app.command()
def main(
    lang: str = typer.Argument(..., help="Target language: one of base.languages."),
    data_dir: Path = Path("data/sdrrl/machine_translate"),
    out_dir: Path = Path("data/sdrrl/filter"),
    metrics_dir: Path = Path("metrics/sdrrl/filter"),
) -> None:
    """Write OUT_DIR/LANG.parquet (kept rows) and METRICS_DIR/LANG.json.

    The metrics are the kept/dropped counts and the hub commit of the CometKiwi model.
    """
    with stage_errors():
        b = base()
        target_language(lang, b.languages)
        cfg = params("filter", FilterConfig)  # checked even when idle: filter.comet included
        if skip_sdrrl((out_dir / f"{lang}.parquet", SDRRL_KEPT)):
            write_json({}, metrics_dir / f"{lang}.json")
            return
        table = read_table(data_dir / f"{lang}.parquet", SDRRL_MT)
        kept, counts = filter_language(cfg, table, lang, b.seed)
        write_table(kept, out_dir / f"{lang}.parquet", SDRRL_KEPT)
        write_json(counts | commit_metrics(), metrics_dir / f"{lang}.json")  # CometKiwi's commit


if __name__ == "__main__":
    app()
