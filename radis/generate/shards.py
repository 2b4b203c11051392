"""Resumable generation: outputs are written in shards as they are made.

:class:`ShardedBackend` wraps any backend. It cuts the prompts into fixed shards, keeps each
finished shard as Parquet under a work folder named by a hash of everything that decides the
outputs (prompts, decoding params, model fingerprint), and on a rerun generates only the missing
shards. The work folder lies outside DVC's outputs, so DVC does not delete it before a rerun; a
changed param or model gives another hash, so stale work is never resumed. The folder is removed
once the stage has its full result.
"""

import dataclasses
import hashlib
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa

from radis.core import progress
from radis.core.io import Schema, read_table, write_table
from radis.generate.backend import Backend, Completion, GenerationConfig

SHARD = Schema(
    "generation_shard",
    1,
    {
        "text": pa.string(),
        "finish_reason": pa.string(),
        "prompt_tokens": pa.int64(),
        "completion_tokens": pa.int64(),
    },
)


def model_fingerprint(model: str | Path) -> str:
    """Identify a model: a local folder by its files' names, sizes and mtimes; else its id."""
    path = Path(model)
    if not path.is_dir():
        return str(model)
    stats = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in path.iterdir())
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()


def work_key(prompts: list[str], cfg: GenerationConfig, fingerprint: str, shard_rows: int) -> str:
    """Hash of everything that decides the generated shards."""
    h = hashlib.sha256()
    h.update(json.dumps([dataclasses.asdict(cfg), fingerprint, shard_rows]).encode())
    for p in prompts:
        h.update(hashlib.sha256(p.encode()).digest())
    return h.hexdigest()[:16]


class ShardedBackend:
    """A backend whose :meth:`generate` resumes from the shards a killed run left."""

    def __init__(self, inner: Backend, work_dir: str | Path, shard_rows: int, fingerprint: str):
        """Wrap ``inner``; shards of ``shard_rows`` prompts go under ``work_dir``."""
        self.inner, self.work_dir, self.shard_rows = inner, Path(work_dir), shard_rows
        self.tokenizer, self.fingerprint = inner.tokenizer, fingerprint

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Continue every prompt, in order; finished shards of an earlier run are reused."""
        with progress.bar(len(prompts), self.work_dir.name, "prompt") as bar:
            return self._generate(prompts, cfg, bar)

    def shard_paths(self, prompts: list[str], cfg: GenerationConfig) -> list[Path]:
        """The file of every shard of ``prompts`` under ``cfg``, in order (made or not)."""
        folder = self.work_dir / work_key(prompts, cfg, self.fingerprint, self.shard_rows)
        n = (len(prompts) + self.shard_rows - 1) // self.shard_rows
        return [folder / f"shard-{i:05d}.parquet" for i in range(n)]

    def shard(self, prompts: list[str], cfg: GenerationConfig, i: int):
        """Shard ``i``'s prompts and generation settings (seed ``cfg.seed + i``)."""
        chunk = prompts[i * self.shard_rows : (i + 1) * self.shard_rows]
        return chunk, dataclasses.replace(cfg, seed=cfg.seed + i)

    def _generate(self, prompts: list[str], cfg: GenerationConfig, bar) -> list[Completion]:
        paths = self.shard_paths(prompts, cfg)
        reused = made = 0  # shards reused, tokens generated
        out: list[Completion] = []
        for i, path in enumerate(paths):
            if path.is_file():
                reused += 1
                rows = read_shard(path)
                out += rows
                bar.skip(len(rows))
                continue
            done = self.inner.generate(*self.shard(prompts, cfg, i))
            write_shard(path, done)
            out += done
            made += sum(c.completion_tokens for c in done)
            bar.reach(len(out), made)  # a backend that counts no batches of its own
        if reused:
            print(
                f"resumed: {reused}/{len(paths)} shards reused from {paths[0].parent}",
                file=sys.stderr,
            )
        return out

    def clean(self) -> None:
        """Remove the work folder (call once the stage's output is written)."""
        shutil.rmtree(self.work_dir, ignore_errors=True)


def read_shard(path: Path) -> list[Completion]:
    """The completions a shard file holds."""
    return [Completion(**r) for r in read_table(path, SHARD, allow_empty=True).to_dict("records")]


def write_shard(path: Path, completions: list[Completion]) -> None:
    """Write one shard's completions (atomically: a killed run leaves no partial shard)."""
    write_table(pd.DataFrame([dataclasses.asdict(c) for c in completions]), path, SHARD)
