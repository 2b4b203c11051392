"""Stage train: LoRA fine-tuning of the backbone on one method's training set."""

import shutil
from pathlib import Path

import pandas as pd
import typer

from radis.cli import base, method_name, params, stage_errors
from radis.io import atomic_path, read_table
from radis.lora import checkpoint_path, train_lora
from radis.schemas import TRAIN_SET
from radis.train import TrainConfig

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: str,
    data_dir: Path = Path("data/build"),
    out_dir: Path = Path("data/train"),
    log_dir: Path = Path("metrics/train"),
) -> None:
    """Save METHOD's adapter to OUT_DIR/METHOD and its per-step log to LOG_DIR/METHOD.csv."""
    with stage_errors():
        method_name(params("methods"), method)
        b = base()
        cfg = params("train", TrainConfig, seed=b.seed)
        rows = read_table(data_dir / f"{method}.parquet", TRAIN_SET)
        work = Path("data/.work") / f"train@{method}"
        checkpoint = checkpoint_path(work, cfg, rows, b.model_dir)
        with atomic_path(out_dir / method) as tmp:
            log = train_lora(b.model_dir, rows, cfg, tmp, checkpoint=checkpoint)
        with atomic_path(log_dir / f"{method}.csv") as tmp:
            pd.DataFrame(log).to_csv(tmp, index=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    app()
