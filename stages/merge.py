"""Stage merge: fold a method's LoRA adapter into the backbone (or take a fully fine-tuned model).

Saves the merged model in ``base.dtype``.
"""

from pathlib import Path

import typer

from radis.cli import base, method_name, params, stage_errors
from radis.io import atomic_path
from radis.lora import merge

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: str, adapter_dir: Path = Path("data/train"), out_dir: Path = Path("data/models")
) -> None:
    """Save the merged model of METHOD to OUT_DIR/METHOD."""
    with stage_errors():
        method_name(params("methods"), method)
        b = base()
        with atomic_path(out_dir / method) as tmp:
            merge(b.model_dir, adapter_dir / method, tmp, b.dtype)


if __name__ == "__main__":
    app()
