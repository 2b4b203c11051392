"""Shared plumbing of the stage entry points: params, errors as one line, thread count."""

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import typer

from radis.config import PARAMS, load_params, parse, positive, section
from radis.generate import load_backend
from radis.io import RadisError
from radis.shards import ShardedBackend, model_fingerprint


@dataclass
class BaseConfig:
    """Params ``base``: what every stage shares.

    Attributes:
        seed: Seed of every random choice (templates, data order, LoRA init, sampling).
        backbone: The chat model to fine-tune: a local folder or a hub id.
        languages: Languages paired with English, both directions.
        backend: Generation backend (``hf``).
        dtype: Dtype for generation and merging.
        shard_rows: Prompts per resumable generation shard: a killed stage loses at most one
            shard of work; smaller shards sort fewer prompts by length together.
    """

    seed: int = 0
    backbone: str = "data/toy/backbone"
    languages: list = field(default_factory=lambda: ["qa", "qb"])
    backend: Literal["hf"] = "hf"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    shard_rows: int = 1024

    def __post_init__(self):
        positive(shard_rows=self.shard_rows)


def params(dotted: str, cls: type | None = None, **shared):
    """Read ``params.yaml`` section ``dotted``, parsed into ``cls`` when given.

    ``shared`` adds fields taken from elsewhere (``seed=base().seed``) before validation.
    """
    data = section(load_params(), dotted)
    return parse(cls, {**data, **shared}, f"{PARAMS}: {dotted}") if cls else data


def base() -> BaseConfig:
    """The ``base`` params."""
    return params("base", BaseConfig)


@contextlib.contextmanager
def stage_errors() -> Iterator[None]:
    """Report a :class:`RadisError` as one line on stderr and exit 1, without a traceback."""
    threads = os.environ.get("RADIS_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    try:
        yield
    except RadisError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)


def open_backend(b: BaseConfig, model: str, work: str):
    """The generation backend over ``model``, resumable under ``data/.work/<work>``."""
    inner = load_backend(b.backend, model, b.dtype)
    return ShardedBackend(inner, Path("data/.work") / work, b.shard_rows, model_fingerprint(model))


def method_name(methods: list, method: str) -> str:
    """Check that ``method`` is listed in params ``methods``."""
    if method not in methods:
        raise RadisError(f"params.yaml: methods: {method!r} is not listed; listed: {methods}")
    return method
