"""Stage fetch: the configured sources to validated Parquet tables."""

from pathlib import Path

import typer

from radis.cli import base, params, stage_errors
from radis.fetch import SCHEMAS, FetchConfig, fetch
from radis.io import atomic_path, write_json, write_table

app = typer.Typer(add_completion=False)


@app.command()
def main(out: Path = Path("data/fetch"), metrics: Path = Path("metrics/fetch.json")) -> None:
    """Write one Parquet table per dataset to OUT, and the row counts to METRICS.

    ``toy``: translation, general, instructions; ``hub``: translation, instructions, gsm8k,
    advbench, alpaca_eval, cocoa, mt_bench (each ``<name>.parquet``).
    """
    with stage_errors():
        tables, counts = fetch(params("fetch", FetchConfig), base().languages)
        with atomic_path(out) as tmp:
            for name, rows in tables.items():
                write_table(rows, tmp / f"{name}.parquet", SCHEMAS[name])
        write_json(counts, metrics)


if __name__ == "__main__":
    app()
