"""Print LoRA training throughput (tokens/s) and the padding share of processed tokens.

Usage (after `make repro`, or on a fresh clone: a tiny backbone is then built on the fly):
    .venv/bin/python bench/train_throughput.py [--method radis] [--steps 20] [--threads 2]
        [--micro-batch N]

Reads the method's training set from data/build/<method>.parquet and the `train` params; falls
back to the toy world's data when the pipeline has not run yet.
"""

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radis.core.io import RadisError, Schema, read_table  # noqa: E402
from radis.core.params import params  # noqa: E402
from radis.core.schemas import TRAIN_SET  # noqa: E402
from radis.train.loop import TrainConfig  # noqa: E402
from radis.train.lora import train_lora  # noqa: E402


def tiny_backbone(out: Path) -> None:
    from radis.toy.backbone import build_model, train_tokenizer
    from radis.toy.world import WorldConfig, build_world

    world = build_world(WorldConfig(), seed=0)
    tok = train_tokenizer([c["prompt"] + "\n" + c["completion"] for c in world["chat"]], 1024)
    model = build_model(tok, params("toy.backbone.model"), seed=0)
    model.save_pretrained(out)
    tok.save_pretrained(out)


def read_train_set(path: Path):
    """A ``train_set`` table; one built before the ``group`` column (v1) gets the empty group."""
    try:
        return read_table(path, TRAIN_SET)
    except RadisError:
        v1 = {k: v for k, v in TRAIN_SET.fields.items() if k != "group"}
        return read_table(path, Schema(TRAIN_SET.name, 1, v1)).assign(group="")


def load_rows(method: str, n: int):
    """``n`` seeded rows of the method's training set, or of the toy chats before a run."""
    import pandas as pd

    data = Path(f"data/build/{method}.parquet")
    if data.is_file():
        rows = read_train_set(data)
    else:
        from radis.toy.world import WorldConfig, build_world

        rows = pd.DataFrame(build_world(WorldConfig(), seed=0)["chat"]).assign(
            masked_suffix="", group=""
        )
    return rows.sample(n=min(len(rows), n), random_state=0).reset_index(drop=True)


def setup(tmp: str) -> tuple[argparse.Namespace, TrainConfig, Path]:
    """Parse the common arguments; the train params for one epoch; the backbone (or a tiny one)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="radis")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--micro-batch", type=int, help="micro_batch_size (default: the params')")
    ap.add_argument("--rounds", type=int, default=1, help="vs_trainer.py: runs of each loop")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = params("train", TrainConfig)
    cfg.epochs, cfg.checkpoint_every = 1, 0
    if args.micro_batch:
        cfg = dataclasses.replace(cfg, micro_batch_size=args.micro_batch)
    backbone = Path(params("base.backbone"))
    if not backbone.is_dir():
        backbone = Path(tmp) / "backbone"
        tiny_backbone(backbone)
    return args, cfg, backbone


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args, cfg, backbone = setup(tmp)
        data = Path(f"data/build/{args.method}.parquet")
        rows = load_rows(args.method, args.steps * cfg.batch_size)
        start = time.perf_counter()
        log = train_lora(backbone, rows, cfg, Path(tmp) / "adapter")
        seconds = time.perf_counter() - start
    tokens = sum(r["tokens"] for r in log)
    real = sum(r["tokens"] * (1 - r["padding"]) for r in log)
    print(
        f"data: {data if data.is_file() else 'toy chats'}  steps: {len(log)}  "
        f"batch: {cfg.batch_size}  micro-batch: {cfg.micro_batch_size}"
    )
    print(f"train tokens/s (processed, incl. padding): {tokens / log[-1]['seconds']:.0f}")
    print(f"train tokens/s (real tokens):              {real / log[-1]['seconds']:.0f}")
    print(f"padding share of processed tokens:         {1 - real / tokens:.1%}")
    print(f"wall time incl. model load:                {seconds:.1f} s")


if __name__ == "__main__":
    main()
