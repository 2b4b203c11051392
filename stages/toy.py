"""Stage toy: build the toy world's tables (parallel data, evaluation sets, chat data)."""

from pathlib import Path

import typer

from radis.cli import stage_errors
from radis.core.io import atomic_path, write_table
from radis.core.params import base, params
from radis.core.schemas import GENERAL, GLOSS, SFT, TRANSLATION
from radis.toy.world import WorldConfig, build_world

app = typer.Typer(add_completion=False)


@app.command()
def main(out: Path = Path("data/toy/world")) -> None:
    """Write parallel.parquet, general.parquet, instructions.parquet and chat.parquet to OUT."""
    with stage_errors():
        b = base()
        world = build_world(params("toy.world", WorldConfig), b.seed)
        with atomic_path(out) as tmp:
            write_table(world["parallel"], tmp / "parallel.parquet", TRANSLATION)
            write_table(world["general"], tmp / "general.parquet", GENERAL)
            write_table(world["instructions"], tmp / "instructions.parquet", SFT)
            write_table(world["chat"], tmp / "chat.parquet", SFT)
            write_table(world["glosses"], tmp / "glosses.parquet", GLOSS)


if __name__ == "__main__":
    app()
