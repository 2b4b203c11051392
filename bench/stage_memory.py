"""Print the peak resident memory (max RSS) of every stage of the pipeline.

Usage, from the repository root with the environment active (takes one full run):
    python bench/stage_memory.py [--stages toy backbone ...]

Runs each stage's command in its own process, in pipeline order, and reads that process's
max RSS from ``os.wait4``. Outputs are (re)written as by ``dvc repro --force``; run ``dvc commit``
afterwards, or ``dvc repro`` to re-record them.
"""

import argparse
import os
import shlex
import subprocess
import time

from dvc.repo import Repo

LIMIT_GIB = 4.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stages", nargs="*", help="stage names (default: all)")
    args = ap.parse_args()
    stages = [s for s in Repo(".").index.stages if s.cmd]
    rows = []
    for stage in stages:
        if args.stages and stage.addressing not in args.stages:
            continue
        start = time.perf_counter()
        proc = subprocess.Popen(shlex.split(stage.cmd), stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        gib = usage.ru_maxrss / 2**20  # KiB on Linux
        rows.append(
            (stage.addressing, gib, time.perf_counter() - start, os.waitstatus_to_exitcode(status))
        )
        print(
            f"{stage.addressing:<22} {gib:6.2f} GiB  {rows[-1][2]:7.1f} s  rc={rows[-1][3]}",
            flush=True,
        )
    worst = max(rows, key=lambda r: r[1])
    print(
        f"peak: {worst[1]:.2f} GiB ({worst[0]}); limit {LIMIT_GIB} GiB: "
        f"{'ok' if worst[1] <= LIMIT_GIB else 'OVER'}"
    )


if __name__ == "__main__":
    main()
