"""Fetch: the configured sources to Parquet tables with declared schemas.

The embedded default (``toy``) reads the toy world's tables; ``hub`` reads the paper setup's
datasets by hub id (:mod:`radis.data.hub`), or from a mirror folder with the hub's layout.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from radis.core.config import PARAMS
from radis.core.io import RadisError, Schema, read_table
from radis.core.schemas import (
    ADVBENCH,
    ALPACA_EVAL,
    COCOA,
    GENERAL,
    GSM8K,
    MT_BENCH,
    SFT,
    TRANSLATION,
)
from radis.core.templates import language_name
from radis.data.hub import (
    COCOA_FILES,
    COMMITS,
    CocoaSpec,
    DatasetSpec,
    DictionarySpec,
    MtBenchSpec,
    ParallelSpec,
    TranslationSpec,
    cocoa_rows,
    commit_metrics,
    dictionary_texts,
    frame,
    instruction_rows,
    load_spec,
    mt_bench_rows,
    parallel_rows,
    sample_pairs,
    translation_rows,
)
from radis.sdrrl.codeswitch import parse_muse

#: Where the hub source's params live, for error messages.
HUB = f"{PARAMS}: fetch.hub"

#: Per dataset of the hub source: the columns read, and those that must not be blank (a row
#: where one is empty or whitespace only is dropped and counted).
TEXTS: dict[str, tuple[list[str], list[str]]] = {
    "train": (["source", "reference"], ["source", "reference"]),
    "valid": (["source", "reference"], ["source", "reference"]),
    "test": (["source", "reference"], ["source", "reference"]),
    "alpaca": (["instruction", "input", "output"], ["instruction", "output"]),
    "dolly": (["instruction", "input", "output"], ["instruction", "output"]),
    "gsm8k": (["question", "answer"], ["question", "answer"]),
    "gsm8k_train": (["question", "answer"], ["question", "answer"]),
    "advbench": (["prompt", "target"], ["prompt"]),
    "alpaca_eval": (["instruction", "output", "generator", "dataset"], ["instruction"]),
    "cocoa": (list(COCOA_FILES), list(COCOA_FILES)),
    "mt_bench": (["category", "turn_1", "turn_2"], ["turn_1", "turn_2"]),
    "parallel": (["source", "reference"], ["source", "reference"]),
}

#: The schema of every table fetch writes, by file stem under ``data/fetch``.
SCHEMAS: dict[str, Schema] = {
    "translation": TRANSLATION,
    "general": GENERAL,
    "instructions": SFT,
    "gsm8k": GSM8K,
    "gsm8k_train": GSM8K,
    "advbench": ADVBENCH,
    "alpaca_eval": ALPACA_EVAL,
    "cocoa": COCOA,
    "mt_bench": MT_BENCH,
    "parallel": TRANSLATION,
}

#: The folder under ``data/fetch`` of the bilingual dictionaries (``fetch.hub.dictionaries``).
DICTIONARIES = "dictionaries"


@dataclass
class HubConfig:
    """Params ``fetch.hub``: the paper setup's datasets; ``None`` leaves one out.

    Attributes:
        train: Training pairs (ALMA human-written data, both directions of each ``xx-en``);
            ``None``: none (the SDRRL setup: its recipes train on ``parallel``).
        valid: Validation pairs (ALMA's validation split, both directions); ``None``: none.
        test: Test pairs (WMT22, one config per direction).
        alpaca: Instruction data (Alpaca) for the instructions table, ids ``alpaca-<row>``.
        dolly: Instruction data (Dolly: context is the input, response the output).
        gsm8k: GSM8K questions and solutions (the test split, evaluated).
        gsm8k_train: GSM8K's train split: the pool the gsm8k stage draws its few-shot examples
            from, as lm-eval's gsm8k task does; left out unless set (the paper setup sets it).
        advbench: AdvBench harmful prompts and targets.
        alpaca_eval: AlpacaEval prompts with their reference output, generator and dataset.
        cocoa: CoCoA-MT formality test files (references and their annotated copies).
        mt_bench: MT-Bench questions (FastChat's ``question.jsonl``); left out unless set.
        parallel: SDRRL's external parallel data for D_mt and D_comp (paper: 1,000 Opus-100 pairs
            a language); ``None``: the English → X pairs of the translation table's train split.
        dictionaries: SDRRL's bilingual dictionaries for code-switching (MUSE's), written to
            ``data/fetch/dictionaries``; left out unless set.
    """

    train: TranslationSpec | None = field(
        default_factory=lambda: TranslationSpec(
            "haoranxu/ALMA-Human-Parallel", "train", both_directions=True
        )
    )
    valid: TranslationSpec | None = field(
        default_factory=lambda: TranslationSpec(
            "haoranxu/ALMA-Human-Parallel", "validation", both_directions=True
        )
    )
    test: TranslationSpec = field(
        default_factory=lambda: TranslationSpec("haoranxu/WMT22-Test", "test")
    )
    alpaca: DatasetSpec | None = field(default_factory=lambda: DatasetSpec("tatsu-lab/alpaca"))
    dolly: DatasetSpec | None = field(
        default_factory=lambda: DatasetSpec(
            "databricks/databricks-dolly-15k", columns={"input": "context", "output": "response"}
        )
    )
    gsm8k: DatasetSpec | None = field(
        default_factory=lambda: DatasetSpec("openai/gsm8k", "main", "test")
    )
    gsm8k_train: DatasetSpec | None = None
    advbench: DatasetSpec | None = field(default_factory=lambda: DatasetSpec("walledai/AdvBench"))
    alpaca_eval: DatasetSpec | None = field(
        default_factory=lambda: DatasetSpec("tatsu-lab/alpaca_eval", file="alpaca_eval.json")
    )
    cocoa: CocoaSpec | None = field(default_factory=CocoaSpec)
    mt_bench: MtBenchSpec | None = None
    parallel: ParallelSpec | None = None
    dictionaries: DictionarySpec | None = None


@dataclass
class FetchConfig:
    """Params ``fetch``.

    Attributes:
        source: ``toy`` reads the toy world from ``toy_dir``; ``hub`` reads ``hub``.
        toy_dir: Folder of the toy world's tables.
        mirror: A folder with the hub's layout: every hub id ``X`` (and the CoCoA-MT repository)
            is read from ``<mirror>/X``, offline; revisions do not apply there. MUSE's
            dictionaries are read from ``<mirror>/`` :data:`radis.data.hub.MUSE_MIRROR`.
        hub: The datasets of the ``hub`` source.
    """

    source: Literal["toy", "hub"] = "toy"
    toy_dir: str = "data/toy/world"
    mirror: str | None = None
    hub: HubConfig = field(default_factory=HubConfig)


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
        Tables ``translation``, ``general``, ``instructions`` and ``parallel`` (the English → X
        pairs of the train split), and counts for the metrics.
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
    tables = {"translation": translation, "general": general, "instructions": instructions}
    tables["parallel"] = train_pairs(translation)
    counts["parallel"] = len(tables["parallel"])
    return tables, counts


def train_pairs(translation: pd.DataFrame) -> pd.DataFrame:
    """The English → X rows of a translation table's train split: the default parallel data."""
    keep = (translation.split == "train") & (translation.src_lang == "en")
    return translation[keep].reset_index(drop=True)


def fetch(
    cfg: FetchConfig, languages: list[str], seed: int = 0
) -> tuple[dict[str, pd.DataFrame], dict]:
    """The tables of ``cfg.source`` (file stem to rows; schemas in :data:`SCHEMAS`) and counts."""
    if cfg.source == "toy":
        return fetch_toy(cfg, languages)
    return fetch_hub(cfg, languages, seed)


def fetch_dictionaries(cfg: FetchConfig, languages: list[str]) -> tuple[dict[str, str], dict]:
    """The texts of ``fetch.hub.dictionaries`` by file name (none unless set), and their counts.

    Raises:
        RadisError: If a language's file is missing or is not a MUSE dictionary.
    """
    spec = cfg.hub.dictionaries
    if cfg.source == "toy" or spec is None:
        return {}, {}
    texts = dictionary_texts(spec, languages, cfg.mirror, f"{HUB}.dictionaries")
    counts = {}
    for name, text in texts.items():
        entries = parse_muse(text, f"{HUB}.dictionaries: {name}")
        counts[f"dictionary.{name.removesuffix('.txt')}"] = sum(map(len, entries.values()))
    return texts, counts


def fetch_hub(
    cfg: FetchConfig, languages: list[str], seed: int = 0
) -> tuple[dict[str, pd.DataFrame], dict]:
    """Read, clean and count the paper setup's datasets.

    Each table drops the rows where a required text is empty or whitespace only and counts them
    under ``dropped_empty.<table>`` (translation per split, in directed rows; instructions per
    source); ``dropped_empty`` is the total.

    Every hub dataset is read at the commit its revision resolves to, recorded in the counts as
    ``commit.<repo id>`` (a mirror folder or local file has none).

    Args:
        cfg: Params ``fetch``.
        languages: ``base.languages``.
        seed: Draws the sample of ``hub.parallel`` (``base.seed``).

    Returns:
        Tables ``translation``, ``general`` (empty: the toy world's rule-checked tasks),
        ``parallel`` (``hub.parallel``'s sample, else the translation table's English → X train
        pairs), and ``instructions``, ``gsm8k``, ``gsm8k_train``, ``advbench``, ``alpaca_eval``,
        ``cocoa`` and ``mt_bench`` where configured; and the counts for the metrics.
    """
    for lang in languages:
        language_name(lang, f"{PARAMS}: base.languages")
    hub, counts = cfg.hub, {}
    COMMITS.clear()
    tables = {"translation": _translation(cfg, languages, counts)}
    tables["parallel"] = _parallel(cfg, languages, seed, counts, tables["translation"])
    # The toy world's rule-checked general tasks have no hub counterpart: here the general
    # abilities are the suites' benchmarks (GSM8K, AdvBench, ...), so this table is empty.
    tables["general"] = pd.DataFrame({col: [] for col in GENERAL.fields}, dtype=str)
    instructions = [
        instruction_rows(_kept(_frame(spec, name, cfg.mirror), name, counts, "instructions."))
        for name, spec in (("alpaca", hub.alpaca), ("dolly", hub.dolly))
        if spec is not None
    ]
    if instructions:
        tables["instructions"] = pd.concat(instructions, ignore_index=True)
        counts["instructions"] = len(tables["instructions"])
    evaluation = {
        "gsm8k": hub.gsm8k,
        "gsm8k_train": hub.gsm8k_train,
        "advbench": hub.advbench,
        "alpaca_eval": hub.alpaca_eval,
    }
    for name, spec in evaluation.items():
        if spec is not None:
            tables[name] = _kept(_frame(spec, name, cfg.mirror), name, counts)
    if hub.cocoa is not None:
        tables["cocoa"] = _kept(cocoa_rows(hub.cocoa, cfg.mirror, f"{HUB}.cocoa"), "cocoa", counts)
    if hub.mt_bench is not None:
        rows = mt_bench_rows(hub.mt_bench, cfg.mirror, f"{HUB}.mt_bench")
        tables["mt_bench"] = _kept(rows, "mt_bench", counts)
    counts["dropped_empty"] = sum(v for k, v in counts.items() if k.startswith("dropped_empty."))
    counts |= commit_metrics()
    return tables, counts


def _translation(cfg: FetchConfig, languages: list[str], counts: dict) -> pd.DataFrame:
    """The train, valid and test rows of ``cfg.hub``, each split cleaned and counted."""
    parts = []
    for label, spec in (("train", cfg.hub.train), ("valid", cfg.hub.valid), ("test", cfg.hub.test)):
        if spec is not None:
            rows = translation_rows(spec, languages, label, cfg.mirror, f"{HUB}.{label}")
            rows = select_languages(rows, languages, f"{HUB}.{label} ({spec.id})")
            parts.append(_kept(rows, label, counts, "translation."))
    table = pd.concat(parts, ignore_index=True)
    dup = table.id[table.id.duplicated()]
    if len(dup):
        raise RadisError(f"{HUB}: translation id {dup.iloc[0]!r} twice: two configs overlap")
    return table


def _parallel(
    cfg: FetchConfig, languages: list[str], seed: int, counts: dict, translation: pd.DataFrame
) -> pd.DataFrame:
    """``hub.parallel``'s pairs, blank ones dropped, then sampled; else the train pairs."""
    spec = cfg.hub.parallel
    if spec is None:
        rows = train_pairs(translation)
    else:
        rows = parallel_rows(spec, languages, cfg.mirror, f"{HUB}.parallel")
        rows = sample_pairs(_kept(rows, "parallel", counts), spec.pairs, seed, f"{HUB}.parallel")
    counts["parallel"] = len(rows)
    return rows


def _frame(spec: DatasetSpec, name: str, mirror: str | None) -> pd.DataFrame:
    """The rows of dataset ``name`` with the columns of :data:`TEXTS`."""
    rows = load_spec(spec, mirror, f"{HUB}.{name}")
    return frame(rows, name, TEXTS[name][0], spec.columns, f"{HUB}.{name}: {spec.id}")


def _kept(df: pd.DataFrame, name: str, counts: dict, prefix: str = "") -> pd.DataFrame:
    """``df`` without the rows whose required texts are blank, counted in ``counts``."""
    if df.empty:
        raise RadisError(f"{HUB}.{name}: the dataset has no rows")
    df, dropped = clean(df, TEXTS[name][1])
    if df.empty:
        raise RadisError(f"{HUB}.{name}: no rows left after dropping empty texts")
    counts[prefix + name] = len(df)
    counts[f"dropped_empty.{prefix}{name}"] = dropped
    return df
