"""Build: one prompt/completion training set per method.

Every recipe uses the same seeded instruction for the same pair (``pick_template``), so methods
differ only in what the reply holds, and in what is mixed in.
"""

import random
import re
import sys
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from radis.core.config import positive, probability
from radis.core.io import RadisError
from radis.data.rationales import with_instructions

RECIPES = ("vanilla", "radis", "multitask", "seqkd", "sdft")


@dataclass
class MethodConfig:
    """Params ``build.<method>``.

    Attributes:
        recipe: ``vanilla``: instruction → reference. ``radis``: instruction → reference +
            rationale. ``multitask``: vanilla plus open instruction data. ``seqkd``: vanilla plus
            instruction → the backbone's own translation. ``sdft``: instruction → the backbone's
            rewrite of the reference.
        rationales: (radis) Which rationale set: a key of ``rationales.models`` (``self``: the
            backbone's own; another key: rationales written by another model).
        proportion: (radis) Share of the samples enriched with a rationale (seeded); the rest
            keep the reference only.
        truncated: (radis) What becomes of a rationale cut by ``max_new_tokens`` (the reply's
            end-of-turn token must not follow a sentence cut short, or the model learns to stop
            mid-sentence): ``cut`` keeps it up to its last complete sentence
            (:func:`last_sentence_end`; none: the row keeps the reference only), ``drop`` keeps
            the reference only. (A Seq-KD y′ cut short is always dropped and an SDFT rewrite cut
            short replaced by the reference: cut at a sentence, they would still be incomplete
            targets.)
        drop_empty: (radis) Drop rows whose rationale is empty; if false they keep only the
            reference.
        rationale_loss: (radis) Learn the rationale tokens (RaDis). If false the rationale stays
            in the reply but is masked from the loss: a control that keeps the longer reply and
            removes the self-distillation gradient.
        instruction_ratio: (multitask) Instruction rows per translation row, drawn (seeded)
            from the open instruction data without replacement: each instruction row is used at
            most once, so a ratio asking for more rows than the pool holds uses the whole pool.
        train: Overrides of params ``train`` for this method's training (read by
            ``train@<method>``, checked against ``train``'s fields there): the paper trains
            Seq-KD, whose set is twice as large, at batch 256 for the same number of steps.
    """

    recipe: Literal["vanilla", "radis", "multitask", "seqkd", "sdft"] = "vanilla"
    rationales: str = "self"
    proportion: float = 1.0
    truncated: Literal["cut", "drop"] = "cut"
    drop_empty: bool = False
    rationale_loss: bool = True
    instruction_ratio: float = 1.0
    train: dict = field(default_factory=dict)

    def __post_init__(self):
        probability(proportion=self.proportion)
        positive(instruction_ratio=self.instruction_ratio)


def sft(ids, prompts, completions, masked_suffixes=None) -> pd.DataFrame:
    """A table in the ``train_set`` schema (``masked_suffix`` empty unless given; one group)."""
    ids = list(ids)
    return pd.DataFrame(
        {
            "id": ids,
            "prompt": list(prompts),
            "completion": list(completions),
            "masked_suffix": [""] * len(ids) if masked_suffixes is None else list(masked_suffixes),
            "group": [""] * len(ids),
        }
    )


def vanilla(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Instruction → reference, with the same seeded instruction every method uses."""
    rows = with_instructions(train, seed)
    return sft(rows.id, rows.instruction, rows.reference)


def enriched_ids(ids: list[str], proportion: float, seed: int) -> set[str]:
    """A seeded subset of exactly round(proportion × len(ids)) ids."""
    shuffled = sorted(ids)
    random.Random(f"proportion:{seed}").shuffle(shuffled)
    return set(shuffled[: round(proportion * len(ids))])


#: A sentence end: terminal punctuation and any closing quotes or brackets, followed by
#: whitespace (Latin scripts), or a CJK full stop (no space follows it in zh and ja).
SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)|[。！？][」』）”’]*")
#: The text before a list number's full stop: a number opening a line or following a sentence.
LIST_NUMBER = re.compile(r"(?:^|\n|[.!?:]\s)\s*\d+$")


def last_sentence_end(text: str) -> str:
    """``text`` up to the end of its last complete sentence, or "" if it has none.

    For text cut at ``max_new_tokens``: a full stop at the very end of Latin text is not taken as
    an end (the cut may fall inside "3.5" or "e.g."), nor is a list number's ("2. Then ...").
    """
    for match in reversed(list(SENTENCE_END.finditer(text))):
        if match.group().startswith(".") and LIST_NUMBER.search(text[: match.start()]):
            continue
        head = text[: match.end()]
        return head if head.strip() else ""
    return ""


def radis(rationales: pd.DataFrame, cfg: MethodConfig, seed: int) -> pd.DataFrame:
    """Instruction → reference + rationale: the enriched reply ŷ = CONCAT(y, r).

    The rationale is the backbone's continuation of exactly the rendered reference, so it is
    appended as generated, with no separator of our own. A rationale cut by ``max_new_tokens``
    is cut back to its last sentence or dropped (``cfg.truncated``).
    """
    rows = rationales
    empty = rows.rationale.str.strip() == ""
    cut = rows.finish_reason == "length"
    rationale = rows.rationale.where(
        ~cut, rows.rationale.map(last_sentence_end) if cfg.truncated == "cut" else ""
    )
    chosen = rows.id.isin(enriched_ids(rows.id.tolist(), cfg.proportion, seed))
    rationale = rationale.where(chosen & ~empty, "")
    keep = ~empty | ~pd.Series(cfg.drop_empty, index=rows.index)
    if cfg.rationale_loss:
        return sft(rows.id[keep], rows.instruction[keep], (rows.reference + rationale)[keep])
    return sft(rows.id[keep], rows.instruction[keep], rows.reference[keep], rationale[keep])


def multitask(train: pd.DataFrame, instructions: pd.DataFrame, cfg: MethodConfig, seed: int):
    """Vanilla rows plus open instruction rows, each used at most once.

    ``round(instruction_ratio × translation rows)`` instruction rows are drawn (seeded) without
    replacement; if the pool holds fewer, every row of it is used once (said on stderr).
    """
    n = round(cfg.instruction_ratio * len(train))
    if n >= len(instructions):
        if n > len(instructions):
            print(
                f"multitask: instruction_ratio {cfg.instruction_ratio} asks for {n} instruction "
                f"rows, the pool holds {len(instructions)}: each is used once",
                file=sys.stderr,
            )
        extra = instructions
    else:
        extra = instructions.iloc[
            random.Random(f"multitask:{seed}").sample(range(len(instructions)), n)
        ]
    return pd.concat([vanilla(train, seed), sft(extra.id, extra.prompt, extra.completion)])


def seqkd(train: pd.DataFrame, own: pd.DataFrame, seed: int) -> pd.DataFrame:
    """{(x, y)} ∪ {(x, y′)}: vanilla rows plus the backbone's own translations.

    A y′ that is empty or was cut by ``max_new_tokens`` adds no row: its end-of-turn token would
    follow an incomplete translation.
    """
    base = vanilla(train, seed)
    kd = base.merge(own[["id", "response", "finish_reason"]], on="id")
    kd = kd[(kd.response.str.strip() != "") & (kd.finish_reason != "length")]
    return pd.concat([base, sft(kd.id + "#kd", kd.prompt, kd.response)])


def sdft(train: pd.DataFrame, rewrites: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Instruction → the backbone's rewrite of the reference.

    A rewrite cut by ``max_new_tokens`` is replaced by the reference, as SDFT replaces a rewrite
    it cannot use (:data:`radis.data.selfgen.SDFT_LEAKS`).
    """
    base = vanilla(train, seed).merge(rewrites[["id", "response", "finish_reason"]], on="id")
    reply = base.response.where(base.finish_reason != "length", base.completion)
    return sft(base.id, base.prompt, reply)


#: The extra input table each recipe reads: a ``rationales`` set, the ``instructions``, or the
#: backbone's own outputs of ``selfgen@translate`` / ``selfgen@rewrite``.
NEEDS = {
    "radis": "rationales",
    "multitask": "instructions",
    "seqkd": "translate",
    "sdft": "rewrite",
}


def needs(cfg: MethodConfig) -> str | None:
    """The extra input table a recipe reads (``rationales``, ``instructions``, ...), or None."""
    return NEEDS.get(cfg.recipe)


def build(cfg: MethodConfig, train: pd.DataFrame, extra: pd.DataFrame | None, seed: int):
    """The training set of one method.

    Args:
        cfg: The method's build params.
        train: Translation rows of the training split.
        extra: The table named by :func:`needs` (None for ``vanilla``).
        seed: ``base.seed``: decides instructions, proportions and samples.
    """
    if cfg.recipe == "vanilla":
        return vanilla(train, seed).reset_index(drop=True)
    if cfg.recipe == "multitask":
        return multitask(train, extra, cfg, seed).reset_index(drop=True)
    missing = set(train.id) - set(extra.id)
    if missing:
        raise RadisError(
            f"{needs(cfg)} table: no row for {len(missing)} training id(s), "
            f"e.g. {sorted(missing)[0]!r}; rerun the stage that makes it"
        )
    extra = extra[extra.id.isin(set(train.id))].reset_index(drop=True)
    recipe = {
        "radis": lambda: radis(extra, cfg, seed),
        "seqkd": lambda: seqkd(train, extra, seed),
        "sdft": lambda: sdft(train, extra, seed),
    }[cfg.recipe]
    return recipe().reset_index(drop=True)
