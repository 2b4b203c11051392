"""Stage safety: AdvBench answers of one model, judged by Llama Guard, and keyword refusals."""

from pathlib import Path

import typer

from radis.cli import AdapterOption, ModelName, ModelOption, stage_errors
from radis.core.io import atomic_path, write_json, write_table
from radis.core.params import base, model_name, params
from radis.core.schemas import SAFETY_PREDICTION
from radis.data.hub import write_commits
from radis.evaluate.safety import (
    SafetyConfig,
    answer,
    judge,
    judge_base,
    read_advbench,
    release,
    scores,
)
from radis.generate.serve import open_backend, served

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    model: ModelOption = "",
    adapter: AdapterOption = "",
    data: Path = Path("data/fetch/advbench.parquet"),
    out_dir: Path = Path("data/safety"),
    metrics_dir: Path = Path("metrics/eval"),
) -> None:
    """Answer and judge AdvBench.

    Writes OUT_DIR/NAME/predictions.parquet (and commits.json: the commit of each hub model
    loaded, e.g. the judge) and METRICS_DIR/NAME/safety.json.
    """
    with stage_errors():
        model_name(name)
        b = base()
        cfg = params("safety", SafetyConfig)
        items = read_advbench(data, cfg.limit)
        judge_b = judge_base(b, cfg)
        what = served(b, name, model, adapter)
        backend = open_backend(b, what.model, f"safety@{name}", what.adapter)
        answers = answer(backend, items, cfg, b.seed)
        release(backend)
        judge_backend = open_backend(judge_b, cfg.judge, f"safety-judge@{name}")
        preds = judge(judge_backend, answers, cfg, b.seed)
        with atomic_path(out_dir / name) as tmp:
            write_table(preds, tmp / "predictions.parquet", SAFETY_PREDICTION)
            write_commits(tmp)  # the judge's (and a hub model's) commit
        write_json(scores(preds), metrics_dir / name / "safety.json")
        backend.clean()
        judge_backend.clean()


if __name__ == "__main__":
    app()
