"""Shared plumbing of the stage entry points: params, errors as one line, thread count."""

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import typer

from radis.config import PARAMS, load_params, parse, section
from radis.io import RadisError


@dataclass
class BaseConfig:
    """Params ``base``: what every stage shares.

    Attributes:
        seed: Seed of every random choice (templates, data order, LoRA init, sampling).
        backbone: The chat model to fine-tune: a local folder or a hub id.
        languages: Languages paired with English, both directions.
        backend: Generation backend (``hf``).
        dtype: Dtype for generation and merging.

    """

    seed: int = 0
    backbone: str = "data/toy/backbone"
    languages: list = field(default_factory=lambda: ["qa", "qb"])
    backend: Literal["hf"] = "hf"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"


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


def method_name(methods: list, method: str) -> str:
    """Check that ``method`` is listed in params ``methods``."""
    if method not in methods:
        raise RadisError(f"params.yaml: methods: {method!r} is not listed; listed: {methods}")
    return method
