"""Stage report: one method's flat metrics with its forgetting rate against the backbone."""

from pathlib import Path

import typer

from radis.cli import MethodName, stage_errors
from radis.core.io import write_json
from radis.core.params import method_name, params
from radis.evaluate.report import method_metrics, model_scores

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: MethodName, eval_dir: Path = Path("metrics/eval"), out_dir: Path = Path("metrics")
) -> None:
    """Write OUT_DIR/METHOD.json."""
    with stage_errors():
        method_name(params("methods"), method)
        base, tuned = model_scores(eval_dir, "backbone"), model_scores(eval_dir, method)
        write_json(method_metrics(base, tuned), out_dir / f"{method}.json")


if __name__ == "__main__":
    app()
