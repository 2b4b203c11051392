"""Stage summary: the backbone's metrics and a markdown table of every model."""

from pathlib import Path

import typer

from radis.cli import params, stage_errors
from radis.io import atomic_path, read_json, write_json
from radis.report import method_metrics, table

app = typer.Typer(add_completion=False)


@app.command()
def main(eval_dir: Path = Path("data/eval"), out_dir: Path = Path("metrics")) -> None:
    """Write OUT_DIR/backbone.json and OUT_DIR/table.md."""
    with stage_errors():
        base = read_json(eval_dir / "backbone" / "scores.json")
        rows = {"backbone": base | {"fr": 0.0, "preservation": 100.0}}
        rows |= {
            m: method_metrics(base, read_json(eval_dir / m / "scores.json"))
            for m in params("methods")
        }
        write_json(base, out_dir / "backbone.json")
        with atomic_path(out_dir / "table.md") as tmp:
            tmp.write_text(table(rows))


if __name__ == "__main__":
    app()
