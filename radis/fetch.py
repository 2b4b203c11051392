"""Fetch: the configured sources to Parquet tables with declared schemas.

The embedded default reads the toy world's tables; the paper setup (hub ids) plugs in as another
source kind.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from radis.io import RadisError, read_table
from radis.schemas import GENERAL, SFT, TRANSLATION
from radis.templates import language_name


@dataclass
class FetchConfig:
    """Params ``fetch``.

    Attributes:
        source: ``toy`` reads the toy world from ``toy_dir``.
        toy_dir: Folder of the toy world's tables.
    """

    source: Literal["toy"] = "toy"
    toy_dir: str = "data/toy/world"


def clean(df: pd.DataFrame, text_columns: list[str]) -> tuple[pd.DataFrame, int]:
    """Strip texts and drop rows where any of ``text_columns`` is empty; return the drop count."""
    df = df.copy()
    for col in text_columns:
        df[col] = df[col].str.strip()
    keep = (df[text_columns] != "").all(axis=1)
    return df[keep].reset_index(drop=True), int((~keep).sum())


def select_languages(df: pd.DataFrame, languages: list[str], path: str) -> pd.DataFrame:
    """Keep the rows between English and one of ``languages``, in both directions."""
    for lang in languages:
        language_name(lang, "params.yaml: base.languages")
    pairs = {("en", x) for x in languages} | {(x, "en") for x in languages}
    keep = [(s, t) in pairs for s, t in zip(df.src_lang, df.tgt_lang)]
    out = df[keep].reset_index(drop=True)
    missing = sorted(
        {x for x in languages if not ((out.src_lang == x) | (out.tgt_lang == x)).any()}
    )
    if missing:
        raise RadisError(f"{path}: no rows for language(s) {missing} (params.yaml: base.languages)")
    return out


def fetch_toy(cfg: FetchConfig, languages: list[str]) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read and clean the toy world's tables.

    Returns:
        Tables ``translation``, ``general`` and ``instructions``, and counts for the metrics.
    """
    root = Path(cfg.toy_dir)
    translation = read_table(root / "parallel.parquet", TRANSLATION)
    translation = select_languages(translation, languages, str(root / "parallel.parquet"))
    translation, dropped_mt = clean(translation, ["source", "reference"])
    general, dropped_gen = clean(
        read_table(root / "general.parquet", GENERAL), ["prompt", "answer"]
    )
    instructions, dropped_inst = clean(
        read_table(root / "instructions.parquet", SFT), ["prompt", "completion"]
    )
    counts = {
        f"translation.{s}": int((translation.split == s).sum()) for s in ("train", "valid", "test")
    }
    counts |= {
        "general": len(general),
        "instructions": len(instructions),
        "dropped_empty": dropped_mt + dropped_gen + dropped_inst,
    }
    return {"translation": translation, "general": general, "instructions": instructions}, counts
