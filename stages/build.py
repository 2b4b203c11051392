"""Stage build: the training set of one method."""

from pathlib import Path

import typer

from radis.cli import MethodName, stage_errors
from radis.core.config import PARAMS
from radis.core.io import write_table
from radis.core.params import base, method_name, params
from radis.core.schemas import TRAIN_SET
from radis.data.build import Folders, training_set

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: MethodName,
    data: Path = Path("data/fetch"),
    rationales_dir: Path = Path("data/rationales"),
    selfgen_dir: Path = Path("data/selfgen"),
    sdrrl_dir: Path = Path("data/sdrrl"),
    out_dir: Path = Path("data/build"),
) -> None:
    """Write the training set of METHOD to OUT_DIR/METHOD.parquet."""
    with stage_errors():
        method_name(params("methods"), method)
        b = base()
        table = training_set(
            params(f"build.{method}"),
            f"{PARAMS}: build.{method}",
            Folders(data, rationales_dir, selfgen_dir, sdrrl_dir),
            b.seed,
            b.languages,
            params("selfanswer.source_language"),
        )
        write_table(table, out_dir / f"{method}.parquet", TRAIN_SET)


if __name__ == "__main__":
    app()
