"""Stage rationales: the backbone continues each training reference with a rationale."""

from pathlib import Path

import typer

from radis.cli import base, params, stage_errors
from radis.generate import load_backend
from radis.io import read_table, write_json, write_table
from radis.rationales import RationaleConfig, generate_rationales, summary
from radis.schemas import RATIONALE, TRANSLATION

app = typer.Typer(add_completion=False)


@app.command()
def main(
    data: Path = Path("data/fetch/translation.parquet"),
    out: Path = Path("data/rationales/rationales.parquet"),
    metrics: Path = Path("metrics/rationales.json"),
) -> None:
    """Generate one rationale per training pair and write them to OUT."""
    with stage_errors():
        cfg, b = params("rationales", RationaleConfig), base()
        cfg.generation.seed = b.seed
        rows = read_table(data, TRANSLATION)
        backend = load_backend(b.backend, b.backbone, b.dtype)
        table = generate_rationales(rows[rows.split == "train"], backend, cfg, b.seed)
        write_table(table, out, RATIONALE)
        write_json(summary(table), metrics)


if __name__ == "__main__":
    app()
