"""Batched generation behind a small backend interface.

A backend turns prompts into :class:`Completion` records, in the order given. A prompt is a
rendered string; one rendered by :func:`radis.core.templates.render` is a
:class:`~radis.core.templates.ChatPrompt` that also carries its chat, which a backend that applies
the chat template itself (vLLM's ``LLM.chat``) sends instead. The HF transformers backend is the CPU
default; the vLLM backend (:mod:`radis.generate.vllm`, the ``gpu`` extra) serves GPUs.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from radis.core.config import positive
from radis.core.io import RadisError


@dataclass
class GenerationConfig:
    """Decoding params (sections ``rationales.generation``, ``evaluate.generation``).

    Attributes:
        max_new_tokens: Generation stops after this many tokens (finish reason ``length``).
        do_sample: Sample with ``temperature``/``top_p``; greedy when false.
        temperature: Sampling temperature (ignored when greedy).
        top_p: Nucleus sampling mass (ignored when greedy).
        batch_tokens: Token budget of one batch: rows × (longest prompt + max_new_tokens).
            Larger is faster until memory runs out.
        seed: Sampling seed: the entry point that generates sets it from its ``seed`` argument
            (``base.seed``, :mod:`radis.core.params`).
    """

    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    batch_tokens: int = 16384
    seed: int = 0

    def __post_init__(self):
        positive(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            batch_tokens=self.batch_tokens,
        )


@dataclass
class Completion:
    """One generated continuation."""

    text: str
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int
    completion_tokens: int


class Backend(Protocol):
    """Anything that continues prompts: rendered strings or chat prompts."""

    tokenizer: object

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Continue every prompt; the result is in the order of ``prompts``."""
        ...


def token_batches(lengths: list[int], budget: int, max_new_tokens: int) -> list[list[int]]:
    """Group prompt indices by length (longest first) into batches within a token budget.

    A batch's cost is its row count times (its longest prompt + ``max_new_tokens``), the size of
    its key/value cache at the end of generation.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, current, width = [], [], 0
    for i in order:
        w = max(width, lengths[i]) + max_new_tokens
        if current and (len(current) + 1) * w > budget:
            batches.append(current)
            current, width = [], 0
        current.append(i)
        width = max(width, lengths[i])
    if current:
        batches.append(current)
    return batches


def resolve_model(model: str | Path) -> str:
    """Check that ``model`` is an existing folder or looks like a hub id (``org/name``).

    A hub id's commit is recorded in :data:`radis.data.hub.COMMITS` (the stage writes it out, so
    ``dvc.lock`` says which weights a result came from).

    Raises:
        RadisError: For a local-looking path that does not exist.
    """
    path = Path(model)
    if path.is_dir():
        return str(model)
    if str(model).startswith((".", "/")) or len(path.parts) != 2 or Path(path.parts[0]).is_dir():
        raise RadisError(f"{model}: model directory not found (run the stage that makes it)")
    from radis.data.hub import model_commit

    model_commit(str(model))
    return str(model)
