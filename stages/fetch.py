"""Stage fetch: the configured sources to validated Parquet tables."""

from pathlib import Path

import typer

from radis.cli import stage_errors
from radis.core.io import atomic_path, write_json, write_table
from radis.core.params import base, params
from radis.data.fetch import DICTIONARIES, SCHEMAS, FetchConfig, fetch, fetch_dictionaries

app = typer.Typer(add_completion=False)


@app.command()
def main(out: Path = Path("data/fetch"), metrics: Path = Path("metrics/fetch.json")) -> None:
    """Write one Parquet table per dataset to OUT, and the row counts to METRICS.

    ``toy``: translation, general, instructions, parallel; ``hub``: translation, parallel,
    instructions, gsm8k, advbench, alpaca_eval, cocoa, mt_bench (each ``<name>.parquet``), and
    with ``fetch.hub.dictionaries`` the MUSE dictionaries in OUT/dictionaries.
    """
    with stage_errors():
        cfg, b = params("fetch", FetchConfig), base()
        tables, counts = fetch(cfg, b.languages, b.seed)
        texts, sizes = fetch_dictionaries(cfg, b.languages)
        with atomic_path(out) as tmp:
            for name, rows in tables.items():
                write_table(rows, tmp / f"{name}.parquet", SCHEMAS[name])
            for name, text in texts.items():
                (tmp / DICTIONARIES).mkdir(exist_ok=True)
                (tmp / DICTIONARIES / name).write_text(text, encoding="utf-8")
        write_json(counts | sizes, metrics)


if __name__ == "__main__":
    app()
