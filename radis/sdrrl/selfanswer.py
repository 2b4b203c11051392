"""SDRRL step 1: the backbone answers the instruction set in the source language itself (G).

The questions are a seeded sample of the open instruction data (all of it by default: Alpaca in
the paper setup); the table keeps each question's reference too, so it is the whole source of
the transfer set D ∪ G.
"""

import random
from dataclasses import dataclass, field, replace

import pandas as pd

from radis.core.config import positive
from radis.core.io import RadisError
from radis.core.templates import LANGUAGES, generation_prompt
from radis.generate.backend import Backend, GenerationConfig


@dataclass
class SelfAnswerConfig:
    """Params ``selfanswer``.

    Attributes:
        source_language: The resource-rich language the instruction data is in and the
            backbone answers in (paper: English; French in its appendix C). The recipes write
            their source-side prompts (D_mt, code-switching directions) in it; the instruction
            data and the translation stages must be in it too.
        enabled: Whether SDRRL's data stages (this one, ``translate``, ``filter``,
            ``codeswitch``) run; false writes empty tables in a second. The SDRRL family of
            methods (``sdrrl``, ``sft``, ``t-sft``, ``cit``, ``xcot``) needs it true.
        questions: How many instructions to sample (seeded); 0 takes them all.
        generation: Decoding of the self answers (greedy by default).
    """

    enabled: bool = False
    source_language: str = "en"
    questions: int = 0
    generation: GenerationConfig = field(default_factory=GenerationConfig)

    def __post_init__(self):
        if self.source_language not in LANGUAGES:
            raise ValueError(
                f"source_language: unknown language {self.source_language!r}; known: "
                f"{sorted(LANGUAGES)}"
            )
        if self.questions:
            positive(questions=self.questions)


def sample_questions(instructions: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A seeded sample of ``n`` rows (all rows if ``n`` is 0), in id order.

    Raises:
        RadisError: If ``n`` exceeds the number of instructions.
    """
    if n > len(instructions):
        raise RadisError(
            f"params.yaml: selfanswer.questions: {n} asked, the instruction set has "
            f"{len(instructions)}"
        )
    ids = sorted(instructions.id)
    chosen = set(random.Random(f"questions:{seed}").sample(ids, n)) if n else set(ids)
    return instructions[instructions.id.isin(chosen)].sort_values("id").reset_index(drop=True)


def self_answer(
    questions: pd.DataFrame, backend: Backend, cfg: SelfAnswerConfig, seed: int
) -> pd.DataFrame:
    """The backbone's answer to every question (sampling seed ``seed``).

    Returns:
        An ``sdrrl_answers`` table, in the order of ``questions``.
    """
    prompts = [generation_prompt(backend.tokenizer, q) for q in questions.prompt]
    outs = backend.generate(prompts, replace(cfg.generation, seed=seed))
    return pd.DataFrame(
        {
            "id": questions.id.tolist(),
            "question": questions.prompt.tolist(),
            "reference": questions.completion.tolist(),
            "prompt": [str(p) for p in prompts],
            "answer": [o.text.strip() for o in outs],
            "finish_reason": [o.finish_reason for o in outs],
        }
    )
