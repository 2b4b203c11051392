"""Stage fetch: the configured sources to validated Parquet tables."""

from pathlib import Path

import typer

from radis.cli import base, params, stage_errors
from radis.fetch import FetchConfig, fetch_toy
from radis.io import atomic_path, write_json, write_table
from radis.schemas import GENERAL, SFT, TRANSLATION

app = typer.Typer(add_completion=False)


@app.command()
def main(out: Path = Path("data/fetch"), metrics: Path = Path("metrics/fetch.json")) -> None:
    """Write translation.parquet, general.parquet and instructions.parquet to OUT."""
    with stage_errors():
        tables, counts = fetch_toy(params("fetch", FetchConfig), base().languages)
        with atomic_path(out) as tmp:
            write_table(tables["translation"], tmp / "translation.parquet", TRANSLATION)
            write_table(tables["general"], tmp / "general.parquet", GENERAL)
            write_table(tables["instructions"], tmp / "instructions.parquet", SFT)
        write_json(counts, metrics)


if __name__ == "__main__":
    app()
