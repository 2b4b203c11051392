"""Stage train: fine-tuning of the backbone (LoRA, or every weight) on one method's training set."""

import shutil
from pathlib import Path

import typer

from radis.cli import MethodName, stage_errors
from radis.core.io import read_table
from radis.core.params import base, method_name, params
from radis.core.schemas import TRAIN_SET
from radis.train.distributed import is_main, launch
from radis.train.live import live_log
from radis.train.loop import expandable_segments, method_config
from radis.train.lora import checkpoint_path, train_lora

app = typer.Typer(add_completion=False)


@app.command()
def main(
    method: MethodName,
    data_dir: Path = Path("data/build"),
    out_dir: Path = Path("data/models"),
    log_dir: Path = Path("metrics/train"),
) -> None:
    """Save METHOD's adapter (or whole model) to OUT_DIR/METHOD, its log to LOG_DIR/METHOD.

    ``finetuning: full`` saves the whole model instead of an adapter. The evaluations load the
    backbone plus the adapter, or the whole model (:mod:`radis.generate.serve`). The log is a
    DVCLive folder written step by step (:mod:`radis.train.live`); the saved model never depends on
    it.

    The params are ``train``, with any overrides in ``build.METHOD.train`` (Seq-KD's batch).

    With ``train.distributed.num_processes`` > 1 the command re-runs itself under
    ``accelerate launch``; the main process writes the outputs.
    """
    expandable_segments()
    with stage_errors():
        method_name(params("methods"), method)
        b = base()
        entry = params(f"build.{method}")  # a mapping: build@<method> checked it
        overrides = entry.get("train", {}) if isinstance(entry, dict) else {}
        cfg = method_config(params("train"), overrides, method, b.seed)
        args = [method, f"--data-dir={data_dir}", f"--out-dir={out_dir}", f"--log-dir={log_dir}"]
        if launch(cfg.distributed, "stages.train", args):
            return
        rows = read_table(data_dir / f"{method}.parquet", TRAIN_SET)
        work = Path("data/.work") / f"train@{method}"
        checkpoint = checkpoint_path(work, cfg, rows, b.model_dir)
        with live_log(log_dir / method, enabled=is_main()) as on_log:
            train_lora(b.model_dir, rows, cfg, out_dir / method, on_log, checkpoint)
        if is_main():
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    app()
