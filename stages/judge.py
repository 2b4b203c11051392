"""Stage instruct-judge: AlpacaEval and MT-Bench judged by their tools, only when configured."""

from pathlib import Path

import typer

from radis.cli import ModelName, stage_errors
from radis.core.io import atomic_path, write_json
from radis.core.params import model_name, params
from radis.evaluate.judge import JudgeConfig, run_judges

app = typer.Typer(add_completion=False)


@app.command()
def main(
    name: ModelName,
    answers_dir: Path = Path("data/instruct"),
    questions: Path = Path("data/fetch/mt_bench.parquet"),
    out_dir: Path = Path("data/judge"),
    metrics_dir: Path = Path("metrics/eval"),
) -> None:
    """Write OUT_DIR/NAME/ (scores.json, the tools' outputs) and METRICS_DIR/NAME/judge.json.

    NAME is the one given to instruct-eval (its answers: ANSWERS_DIR/NAME). The scores are
    empty when params judge.enabled is false.
    """
    with stage_errors():
        model_name(name)
        cfg = params("judge", JudgeConfig)
        with atomic_path(out_dir / name) as tmp:
            tmp.mkdir()
            scores = run_judges(cfg, answers_dir / name, questions, name, tmp)
            write_json(scores, tmp / "scores.json")
        write_json(scores, metrics_dir / name / "judge.json")


if __name__ == "__main__":
    app()
