"""Print what the training stage's progress bar and DVCLive log cost, in % of the stage's time.

Usage, from the repository root:
    .venv/bin/python bench/logging_overhead.py [--method radis] [--rows 4000] [--epochs 3]
        [--rounds 2] [--threads 2]

Each run is a fresh process doing what `python -m stages.train <method>` does with the `train`
params (checkpoints off): import, load the backbone, add the LoRA adapter, tokenize, train, save
the adapter; it is timed from start to exit, with stderr going to a file as in a `dvc repro` log.
`on` is the stage: the progress bar and a DVCLive folder (`radis.train.live.live_log`); `off` shows
no bar and logs nothing (`train_lora(show_progress=False)`, no `on_log`), which only this bench
does. Runs alternate on/off, so load on the machine hits both. Besides the two wall times (noisy
on a loaded machine), it prints the time the `on` runs spent in the logging calls themselves
(timed around each: dvclive's import and the folder's opening, every step's logging and bar
update, the closing). The rows are the method's training set (`data/build/<method>.parquet`)
or, before a run, the toy chats, `--rows` of them; the backbone is `data/models/backbone`, or
before a run a random one of the toy backbone's shape.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def child(mode: str, rows_path: str, backbone: str, out: str, epochs: int, threads: int) -> None:
    """One run of the training stage's work, with logging ``on`` or ``off``.

    Prints its steps and, ``on``, the seconds spent in the logging itself (JSON): opening the
    DVCLive folder (dvclive's import included), the per-step logging, the bar's updates, closing.
    """
    import pandas as pd
    import torch

    from radis.core import progress
    from radis.core.params import params
    from radis.train.live import live_log
    from radis.train.loop import TrainConfig
    from radis.train.lora import train_lora

    torch.set_num_threads(threads)
    cfg = params("train", TrainConfig)
    cfg.epochs, cfg.checkpoint_every = epochs, 0
    rows = pd.read_parquet(rows_path)
    if mode == "off":
        log = train_lora(backbone, rows, cfg, Path(out) / "adapter", show_progress=False)
        print(json.dumps({"steps": len(log)}))
        return
    spent = dict.fromkeys(("open", "log", "bar", "close"), 0.0)
    progress.Progress.update = timed(progress.Progress.update, spent, "bar")
    start = time.perf_counter()
    folder = live_log(Path(out) / "live")
    on_log = timed(folder.__enter__(), spent, "log")
    spent["open"] = time.perf_counter() - start
    log = train_lora(backbone, rows, cfg, Path(out) / "adapter", on_log)
    start = time.perf_counter()
    folder.__exit__(None, None, None)
    spent["close"] = time.perf_counter() - start
    print(json.dumps({"steps": len(log)} | spent))


def timed(func, spent: dict, key: str):
    """``func``, adding the seconds of each call to ``spent[key]``."""

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        out = func(*args, **kwargs)
        spent[key] += time.perf_counter() - start
        return out

    return wrapper


def prepare(args, tmp: Path) -> tuple[Path, str]:
    """The rows' Parquet file and the backbone folder for the runs."""
    from train_throughput import load_rows, tiny_backbone

    rows = load_rows(args.method, args.rows)
    if len(rows) < args.rows:  # the toy chats, repeated up to --rows
        rows = rows.sample(n=args.rows, replace=True, random_state=0).reset_index(drop=True)
    rows_path = tmp / "rows.parquet"
    rows.to_parquet(rows_path)
    backbone = ROOT / "data/models/backbone"
    if not backbone.is_dir():
        backbone = tmp / "backbone"
        tiny_backbone(backbone)
    return rows_path, str(backbone)


def run(mode: str, args, rows_path: Path, backbone: str, tmp: Path) -> tuple[float, dict]:
    """Seconds of one child run, and what it printed."""
    out = tmp / f"run-{mode}"
    cmd = [sys.executable, __file__, "--child", mode, str(rows_path), backbone, str(out)]
    cmd += [f"--epochs={args.epochs}", f"--threads={args.threads}"]
    env = os.environ | {"PYTHONPATH": str(ROOT), "DVC_ROOT": str(ROOT)}  # as under dvc repro
    with open(tmp / f"stderr-{mode}.log", "w") as err:
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{mode} run failed:\n{(tmp / f'stderr-{mode}.log').read_text()[-2000:]}")
    return seconds, json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="radis")
    ap.add_argument("--rows", type=int, default=4000, help="toy default: ~4,000 rows, 375 steps")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", nargs=4, metavar=("MODE", "ROWS", "BACKBONE", "OUT"))
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.epochs, args.threads)
        return
    times: dict[str, list[float]] = {"on": [], "off": []}
    spent: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows_path, backbone = prepare(args, Path(tmp))
        for r in range(args.rounds):
            for mode in ("on", "off") if r % 2 == 0 else ("off", "on"):
                seconds, got = run(mode, args, rows_path, backbone, Path(tmp))
                times[mode].append(seconds)
                parts = {k: round(v, 2) for k, v in got.items() if k != "steps"}
                if parts:
                    spent.append(sum(parts.values()))
                print(f"round {r + 1} {mode:>3}: {seconds:7.1f} s, {got['steps']} steps {parts}")
        lines = (Path(tmp) / "stderr-on.log").read_text().splitlines()
        bar_lines = [line for line in lines if line.startswith("train:")]
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    cost = statistics.median(spent)
    print(f"stage time, median: {on:.1f} s with progress + DVCLive, {off:.1f} s without")
    diff = 100 * (on - off) / off
    print(f"difference: {on - off:+.1f} s = {diff:+.2f} % (machine noise included)")
    print(f"time spent in the logging itself: {cost:.2f} s = {100 * cost / off:.2f} % of the stage")
    print(f"progress lines in one run's log: {len(bar_lines)}, the last:\n{bar_lines[-1]}")


if __name__ == "__main__":
    main()
