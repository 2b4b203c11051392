"""Stage formality: formal and informal translations of CoCoA-MT (paper Table 2)."""

from pathlib import Path

import typer

from radis.cli import AdapterOption, ModelName, ModelOption, stage_errors
from radis.core.io import atomic_path, read_table, write_json, write_table
from radis.core.params import base, model_name, params
from radis.core.schemas import COCOA, FORMALITY_PREDICTION
from radis.data.hub import write_commits
from radis.evaluate.comet import CometConfig
from radis.evaluate.formality import (
    FormalityConfig,
    add_comet,
    formality_scores,
    translate_formality,
)
from radis.generate.serve import open_backend, served

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    model: ModelOption = "",
    adapter: AdapterOption = "",
    data: Path = Path("data/fetch/cocoa.parquet"),
    out_dir: Path = Path("data/formality"),
    metrics_dir: Path = Path("metrics/eval"),
) -> None:
    """Write OUT_DIR/NAME/{formal,informal}.parquet and METRICS_DIR/NAME/formality.json.

    With ``formality.comet``, OUT_DIR/NAME/commits.json names the COMET model's hub commit.
    """
    with stage_errors():
        model_name(name)
        b = base()
        cfg = params("formality", FormalityConfig)
        comet = params("comet", CometConfig) if cfg.comet else None
        rows = read_table(data, COCOA)
        what = served(b, name, model, adapter)
        backend = open_backend(b, what.model, f"formality@{name}", what.adapter)
        preds = translate_formality(backend, rows, cfg, b.seed)
        if comet is not None:
            preds = add_comet(preds, comet)
        with atomic_path(out_dir / name) as tmp:
            for condition, table in preds.items():
                write_table(table, tmp / f"{condition}.parquet", FORMALITY_PREDICTION)
            write_commits(tmp)
        write_json(formality_scores(preds, cfg.comet), metrics_dir / name / "formality.json")
        backend.clean()


if __name__ == "__main__":
    app()
