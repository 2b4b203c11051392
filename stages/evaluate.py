"""Stage evaluate: translation and general abilities of one model."""

from pathlib import Path

import pandas as pd
import typer

from radis.cli import AdapterOption, ModelName, ModelOption, stage_errors
from radis.core.io import atomic_path, read_table, write_json, write_table
from radis.core.params import base, model_name, params
from radis.core.schemas import GENERAL, PREDICTION, TRANSLATION
from radis.evaluate.translation import EvaluateConfig, answer_general, scores, translate
from radis.generate.serve import open_backend, served

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    model: ModelOption = "",
    adapter: AdapterOption = "",
    data: Path = Path("data/fetch"),
    out_dir: Path = Path("data/eval"),
    metrics_dir: Path = Path("metrics/eval"),
) -> None:
    """Evaluate model NAME (loaded as params base.serve say).

    Writes OUT_DIR/NAME/predictions.parquet and METRICS_DIR/NAME/evaluate.json.
    """
    with stage_errors():
        model_name(name)
        b = base()
        cfg = params("evaluate", EvaluateConfig)
        test = read_table(data / "translation.parquet", TRANSLATION)
        test = test[test.split == "test"].reset_index(drop=True)
        general = read_table(data / "general.parquet", GENERAL, allow_empty=True)  # empty: hub
        what = served(b, name, model, adapter)
        backend = open_backend(b, what.model, f"evaluate@{name}", what.adapter)
        preds = pd.concat(
            [translate(backend, test, cfg, b.seed), answer_general(backend, general, cfg, b.seed)],
            ignore_index=True,
        )
        with atomic_path(out_dir / name) as tmp:
            write_table(preds, tmp / "predictions.parquet", PREDICTION)
        write_json(scores(preds), metrics_dir / name / "evaluate.json")
        backend.clean()


if __name__ == "__main__":
    app()
