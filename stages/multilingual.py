"""Stage multilingual: SDRRL's evaluation of one model in each language and in English.

Toy languages: the toy world's general items asked in each toy language. Real languages:
BELEBELE, FLORES+, XL-SUM and MKQA through lm-evaluation-harness.
"""

from pathlib import Path

import typer

from radis.cli import AdapterOption, ModelName, ModelOption, stage_errors
from radis.core.io import atomic_path, write_json, write_table
from radis.core.params import base, model_name, params
from radis.core.schemas import MULTILINGUAL_PREDICTION
from radis.data.hub import write_commits
from radis.evaluate.comet import CometConfig
from radis.evaluate.multilingual import MultilingualConfig
from radis.evaluate.multilingual_suite import evaluate_model

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    model: ModelOption = "",
    adapter: AdapterOption = "",
    data: Path = Path("data/fetch"),
    out_dir: Path = Path("data/multilingual"),
    metrics_dir: Path = Path("metrics/eval"),
) -> None:
    """Evaluate MODEL in every language of base.languages and in English.

    Writes OUT_DIR/NAME/predictions.parquet (and commits.json: the commit each hub dataset was
    read at) and METRICS_DIR/NAME/multilingual.json.
    """
    with stage_errors():
        model_name(name)
        b = base()
        cfg = params("multilingual", MultilingualConfig)
        comet = params("comet", CometConfig) if cfg.comet else None
        scores, preds = evaluate_model(
            b, cfg, name, model, adapter, data / "general.parquet", comet
        )
        with atomic_path(out_dir / name) as tmp:
            write_table(preds, tmp / "predictions.parquet", MULTILINGUAL_PREDICTION)
            write_commits(tmp)  # the hub datasets' commits: dvc.lock pins them through the folder
        write_json(scores, metrics_dir / name / "multilingual.json")


if __name__ == "__main__":
    app()
