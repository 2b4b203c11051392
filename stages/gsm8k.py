"""Stage gsm8k: GSM8K exact match of one model through lm-evaluation-harness."""

from pathlib import Path

import typer

from radis.cli import AdapterOption, ModelName, ModelOption, stage_errors
from radis.core.io import RadisError, atomic_path, write_json, write_table
from radis.core.params import base, model_name, params
from radis.core.schemas import GSM8K_PREDICTION
from radis.evaluate.gsm8k import Gsm8kConfig, evaluate_gsm8k
from radis.evaluate.harness import make_lm, model_args
from radis.generate.serve import served

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    model: ModelOption = "",
    adapter: AdapterOption = "",
    data: Path = Path("data/fetch/gsm8k.parquet"),
    fewshot: Path = Path("data/fetch/gsm8k_train.parquet"),
    out_dir: Path = Path("data/gsm8k"),
    metrics_dir: Path = Path("metrics/eval"),
) -> None:
    """Evaluate MODEL on GSM8K (DATA), few-shot examples drawn from FEWSHOT (the train split).

    Writes OUT_DIR/NAME/predictions.parquet and METRICS_DIR/NAME/gsm8k.json.
    """
    with stage_errors():
        model_name(name)
        b = base()
        cfg = params("gsm8k", Gsm8kConfig)
        if not fewshot.is_file():
            raise RadisError(
                f"{fewshot}: file not found; GSM8K's few-shot examples come from its train "
                "split: set params fetch.hub.gsm8k_train (or pass --fewshot)"
            )
        what = served(b, name, model, adapter)
        lm = make_lm(model_args(what.model, b.dtype, what.adapter), cfg.batch_size)
        scores, preds = evaluate_gsm8k(lm, data, fewshot, cfg, b.seed)
        with atomic_path(out_dir / name) as tmp:
            write_table(preds, tmp / "predictions.parquet", GSM8K_PREDICTION)
        write_json(scores, metrics_dir / name / "gsm8k.json")


if __name__ == "__main__":
    app()
