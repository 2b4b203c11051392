"""Build: one prompt/completion training set per method.

Every recipe uses the same seeded instruction for the same pair (``pick_template``), so methods
differ only in what the reply holds, and in what is mixed in.
"""

import random
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from radis.config import positive, probability
from radis.io import RadisError
from radis.rationales import with_instructions

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
        keep_truncated: (radis) Keep rationales cut by ``max_new_tokens``; if false such rows
            keep only the reference.
        drop_empty: (radis) Drop rows whose rationale is empty; if false they keep only the
            reference.
        rationale_loss: (radis) Learn the rationale tokens (RaDis). If false the rationale stays
            in the reply but is masked from the loss: a control that keeps the longer reply and
            removes the self-distillation gradient.
        instruction_ratio: (multitask) Instruction rows per translation row, sampled (seeded)
            from the open instruction data.
    """

    recipe: Literal["vanilla", "radis", "multitask", "seqkd", "sdft"] = "vanilla"
    rationales: str = "self"
    proportion: float = 1.0
    keep_truncated: bool = True
    drop_empty: bool = False
    rationale_loss: bool = True
    instruction_ratio: float = 1.0

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


def radis(rationales: pd.DataFrame, cfg: MethodConfig, seed: int) -> pd.DataFrame:
    """Instruction → reference + rationale: the enriched reply ŷ = CONCAT(y, r).

    The rationale is the backbone's continuation of exactly the rendered reference, so it is
    appended as generated, with no separator of our own.
    """
    rows = rationales
    empty = rows.rationale.str.strip() == ""
    chosen = rows.id.isin(enriched_ids(rows.id.tolist(), cfg.proportion, seed))
    usable = chosen & ~empty & (cfg.keep_truncated | (rows.finish_reason == "stop"))
    keep = ~empty | ~pd.Series(cfg.drop_empty, index=rows.index)
    rationale = rows.rationale.where(usable, "")
    if cfg.rationale_loss:
        return sft(rows.id[keep], rows.instruction[keep], (rows.reference + rationale)[keep])
    return sft(rows.id[keep], rows.instruction[keep], rows.reference[keep], rationale[keep])


def multitask(train: pd.DataFrame, instructions: pd.DataFrame, cfg: MethodConfig, seed: int):
    """Vanilla rows plus a seeded sample of open instruction data."""
    n = round(cfg.instruction_ratio * len(train))
    rng = random.Random(f"multitask:{seed}")
    picks = (
        rng.sample(range(len(instructions)), n)
        if n <= len(instructions)
        else [rng.randrange(len(instructions)) for _ in range(n)]
    )
    extra = instructions.iloc[picks]
    ids = [f"{i}#{k}" for k, i in enumerate(extra.id)]
    return pd.concat([vanilla(train, seed), sft(ids, extra.prompt, extra.completion)])


def seqkd(train: pd.DataFrame, own: pd.DataFrame, seed: int) -> pd.DataFrame:
    """{(x, y)} ∪ {(x, y′)}: vanilla rows plus the backbone's own translations (non-empty)."""
    base = vanilla(train, seed)
    kd = base.merge(own[["id", "response"]], on="id")
    kd = kd[kd.response.str.strip() != ""]
    return pd.concat([base, sft(kd.id + "#kd", kd.prompt, kd.response)])


def sdft(train: pd.DataFrame, rewrites: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Instruction → the backbone's rewrite of the reference."""
    base = vanilla(train, seed).merge(rewrites[["id", "response"]], on="id")
    return sft(base.id, base.prompt, base.response)


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
