"""Build: one prompt/completion training set per method."""

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from radis.io import RadisError
from radis.rationales import with_instructions


@dataclass
class MethodConfig:
    """Params ``build.<method>``.

    Attributes:
        recipe: ``vanilla`` trains on instruction → reference; ``radis`` on instruction →
            reference + the backbone's rationale.
        keep_truncated: Keep rationales cut by ``max_new_tokens`` (they end mid-sentence but
            still carry the backbone's distribution); if false such rows keep only the reference.
        drop_empty: Drop rows whose rationale is empty; if false they keep only the reference.

    """

    recipe: Literal["vanilla", "radis"] = "vanilla"
    keep_truncated: bool = True
    drop_empty: bool = False


def vanilla(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Instruction → reference, with the same seeded instruction every method uses."""
    rows = with_instructions(train, seed)
    return pd.DataFrame({"id": rows.id, "prompt": rows.instruction, "completion": rows.reference})


def radis(rationales: pd.DataFrame, cfg: MethodConfig) -> pd.DataFrame:
    """Instruction → reference + rationale: the enriched reply ŷ = CONCAT(y, r).

    The rationale is the backbone's continuation of exactly the rendered reference, so it is
    appended as generated, with no separator of our own.
    """
    rows = rationales.copy()
    empty = rows.rationale.str.strip() == ""
    usable = ~empty & (cfg.keep_truncated | (rows.finish_reason == "stop"))
    if cfg.drop_empty:
        rows, usable = rows[~empty], usable[~empty]
    completion = rows.reference.where(~usable, rows.reference + rows.rationale)
    return pd.DataFrame({"id": rows.id, "prompt": rows.instruction, "completion": completion})


def build(
    cfg: MethodConfig, train: pd.DataFrame, rationales: pd.DataFrame | None, seed: int
) -> pd.DataFrame:
    """The training set of one method.

    Args:
        cfg: The method's build params.
        train: Translation rows of the training split.
        rationales: The rationale table (needed by ``radis``).
        seed: ``base.seed``: decides each pair's instruction template.

    """
    if cfg.recipe == "vanilla":
        return vanilla(train, seed)
    if rationales is None:
        raise RadisError(f"build: recipe {cfg.recipe!r} needs the rationale table")
    missing = set(train.id) - set(rationales.id)
    if missing:
        raise RadisError(
            f"rationales table: no rationale for {len(missing)} training id(s), "
            f"e.g. {sorted(missing)[0]!r}; rerun the rationales stage"
        )
    return radis(rationales[rationales.id.isin(set(train.id))], cfg).reset_index(drop=True)
