"""Stage rationales: a model continues each training reference with a rationale."""

from pathlib import Path

import typer
from transformers import AutoTokenizer

from radis.cli import stage_errors
from radis.core.io import read_table, write_json, write_table
from radis.core.params import base, params
from radis.core.schemas import GLOSS, RATIONALE, TRANSLATION
from radis.data.hub import commit_metrics
from radis.data.rationales import RationaleConfig, rationale_set, summary
from radis.generate.serve import open_backend

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: str = typer.Argument("self", help="Rationale set: a key of rationales.models."),
    data: Path = Path("data/fetch/translation.parquet"),
    glosses: Path = Path("data/toy/world/glosses.parquet"),
    out_dir: Path = Path("data/rationales"),
    metrics_dir: Path = Path("metrics/rationales"),
) -> None:
    """Generate one rationale per training pair; write OUT_DIR/NAME.parquet."""
    with stage_errors():
        b = base()
        cfg = params("rationales", RationaleConfig)
        model = cfg.model_for(name, b.model_dir)
        rows = read_table(data, TRANSLATION)
        train = rows[rows.split == "train"]
        table = rationale_set(
            train,
            cfg,
            model,
            b.seed,
            open_backend=lambda served: open_backend(b, served, f"rationales@{name}"),
            open_tokenizer=lambda: AutoTokenizer.from_pretrained(b.model_dir),
            read_glosses=lambda: read_table(glosses, GLOSS),
        )
        write_table(table, out_dir / f"{name}.parquet", RATIONALE)
        write_json(summary(table) | commit_metrics(), metrics_dir / f"{name}.json")


if __name__ == "__main__":
    app()
