"""Stage summary: the backbone's metrics and a markdown table of every model."""

from pathlib import Path

import typer

from radis.cli import stage_errors
from radis.core.io import atomic_path, write_json
from radis.core.params import params
from radis.evaluate.report import (
    figure,
    method_metrics,
    model_scores,
    report,
    tradeoff_figure,
    tradeoff_points,
)

app = typer.Typer(add_completion=False)


@app.command()
def main(eval_dir: Path = Path("metrics/eval"), out_dir: Path = Path("metrics")) -> None:
    """Write OUT_DIR/backbone.json, table.md, figure1.png and tradeoff.png."""
    with stage_errors():
        base = model_scores(eval_dir, "backbone")
        rows = {"backbone": base | {"fr": 0.0, "preservation": 100.0}}
        rows |= {m: method_metrics(base, model_scores(eval_dir, m)) for m in params("methods")}
        write_json(base, out_dir / "backbone.json")
        with atomic_path(out_dir / "table.md") as tmp:
            tmp.write_text(report(rows))
        with atomic_path(out_dir / "figure1.png") as tmp:
            figure(rows, tmp)
        with atomic_path(out_dir / "tradeoff.png") as tmp:
            tradeoff_figure({}, tradeoff_points(rows), tmp)


if __name__ == "__main__":
    app()
