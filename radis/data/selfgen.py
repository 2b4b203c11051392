"""The backbone's own outputs on the training sources, for the Seq-KD and SDFT baselines.

- ``translate`` (Seq-KD): the backbone translates every training source with the same
  instruction every method uses; y′ is its reply as generated, y′ ~ P(·|x, I) (the paper's
  Eq. 5), or, as an option, only the translation extracted from the reply.
- ``rewrite`` (SDFT): the backbone rewrites every reference with SDFT's general distillation
  template; a rewrite that talks about the reference is replaced by the reference.
"""

import re
from dataclasses import dataclass, field, replace
from typing import Literal

import pandas as pd

from radis.core.io import RadisError
from radis.core.templates import ChatPrompt, generation_prompt, render
from radis.data.rationales import with_instructions
from radis.generate.backend import Backend, GenerationConfig
from radis.generate.extraction import extract_translation

#: SDFT (Yang et al., 2024), the general distillation template, verbatim.
SDFT_SYSTEM = (
    "Below are an instruction that describes a task along with a reference answer. "
    "Using the reference answer as a guide, write your own response."
)
SDFT_USER = (
    "### Instruction:\n{instruction}\n\n### Reference Answer:\n{reference}\n\n### Response:\n"
)
#: A rewrite mentioning one of these talks about the reference: SDFT keeps the original instead.
SDFT_LEAKS = re.compile(r"reference answer|your response|my response|your own response", re.I)


@dataclass
class SelfGenConfig:
    """Params ``selfgen``.

    Attributes:
        generation: Decoding of the backbone's translations and rewrites (greedy in both papers).
        kinds: Which outputs to generate: ``translate`` (Seq-KD's y′), ``rewrite`` (SDFT's
            rewrites). A kind not listed idles (an empty table): list the kinds your methods use.
        seqkd_target: Seq-KD's y′: ``raw``, the backbone's greedy reply as it is (Eq. 5: the
            model's own output distribution, preamble and notes included), or ``extracted``,
            only the translation extracted from it (the rule of the test-time evaluation).
    """

    generation: GenerationConfig = field(default_factory=GenerationConfig)
    kinds: list = field(default_factory=list)
    seqkd_target: Literal["raw", "extracted"] = "raw"

    def __post_init__(self):
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise RadisError(f"selfgen.kinds: unknown kind(s) {unknown}; known: {list(KINDS)}")


KINDS = ("translate", "rewrite")


def check_kind(kind: str) -> None:
    """Raise a one-line error unless ``kind`` is one of :data:`KINDS`."""
    if kind not in KINDS:
        raise RadisError(f"selfgen: unknown kind {kind!r}; known: {list(KINDS)}")


def sdft_prompt(tokenizer, instruction: str, reference: str) -> ChatPrompt:
    """The SDFT rewrite request, rendered with a generation prompt."""
    messages = [
        {"role": "system", "content": SDFT_SYSTEM},
        {"role": "user", "content": SDFT_USER.format(instruction=instruction, reference=reference)},
    ]
    return render(tokenizer, messages)


def self_generate(
    kind: Literal["translate", "rewrite"],
    train: pd.DataFrame,
    backend: Backend,
    cfg: SelfGenConfig,
    seed: int,
) -> pd.DataFrame:
    """The backbone's translation (``translate``) or rewrite (``rewrite``) of every training row.

    Returns:
        A ``selfgen`` table: id, prompt (rendered), output (raw), response (what a method trains
        on) and finish reason, in the order of ``train``.
    """
    rows = with_instructions(train, seed)
    if kind == "translate":
        prompts = [generation_prompt(backend.tokenizer, u) for u in rows.instruction]
    else:
        prompts = [
            sdft_prompt(backend.tokenizer, u, y) for u, y in zip(rows.instruction, rows.reference)
        ]
    outs = backend.generate(prompts, replace(cfg.generation, seed=seed))
    texts = [o.text.strip() for o in outs]
    if kind == "translate" and cfg.seqkd_target == "extracted":
        responses = [extract_translation(t, x) for t, x in zip(texts, rows.tgt_lang)]
    elif kind == "translate":
        responses = texts
    else:
        responses = [
            y if (not t or SDFT_LEAKS.search(t)) else t for t, y in zip(texts, rows.reference)
        ]
    return pd.DataFrame(
        {
            "id": rows.id,
            "prompt": prompts,
            "output": texts,
            "response": responses,
            "finish_reason": [o.finish_reason for o in outs],
        }
    ).reset_index(drop=True)
