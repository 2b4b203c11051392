"""SDRRL step 3: keep only good, on-target machine translations.

Two filters, both pluggable by params: a reference-free quality estimate (CometKiwi in the paper
setup, through :mod:`radis.evaluate.comet`'s separate COMET environment; the toy world's own score
otherwise) with threshold τ, and a language identifier (lingua, whose models ship in its wheel;
the toy world's own otherwise). A translation is kept if its score is at least τ and its
detected language is its target language; the two filters are independent, so the order they
run in does not matter.
"""

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from radis.core.config import parse, probability
from radis.core.io import RadisError
from radis.toy import sdrrl as toy


@dataclass
class FilterConfig:
    """Params ``filter``.

    Attributes:
        qe: ``cometkiwi`` (paper: Unbabel/wmt22-cometkiwi-da) or ``toy``.
        threshold: τ: a translation scored below it is dropped (paper: 0.8).
        comet: Options of the COMET environment's CometKiwi run (model, batch size, GPUs),
            passed to :mod:`radis.evaluate.comet` as they are.
        lid: ``lingua`` or ``toy``.
        lid_languages: lingua's candidate languages (ISO 639-1); empty: every language it knows.
            Fewer candidates are faster but cannot tell a translation into a neighbour language.
    """

    qe: Literal["toy", "cometkiwi"] = "toy"
    threshold: float = 0.8
    comet: dict = field(
        default_factory=lambda: {"model": "Unbabel/wmt22-cometkiwi-da", "batch_size": 16}
    )
    lid: Literal["toy", "lingua"] = "toy"
    lid_languages: list = field(default_factory=list)

    def __post_init__(self):
        probability(threshold=self.threshold)
        from radis.evaluate.comet import (
            CometConfig,  # here: radis.evaluate.comet is needed only for cometkiwi
        )

        try:  # checked now, not when the COMET environment starts after translation
            parse(CometConfig, self.comet, "comet")
        except RadisError as err:
            raise ValueError(str(err)) from None


def cometkiwi(sources: list[str], translations: list[str], options: dict) -> list[float]:
    """CometKiwi scores (:mod:`radis.evaluate.comet`, imported only for this scorer)."""
    from radis.evaluate import comet

    cfg = parse(comet.CometConfig, options, "params.yaml: filter.comet")
    return list(comet.qe_scores(sources, translations, cfg))


def qe_scores(
    cfg: FilterConfig, sources: list[str], translations: list[str], lang: str, seed: int
) -> list[float]:
    """Reference-free quality of each translation into ``lang``, by the scorer ``cfg.qe``."""
    if cfg.qe == "cometkiwi":
        return cometkiwi(sources, translations, cfg.comet)
    return toy.quality(sources, translations, lang, seed)


def lingua_languages(codes: list[str]) -> list:
    """The lingua ``Language`` values for ISO 639-1 ``codes`` (all of them if ``codes`` is empty).

    Raises:
        RadisError: For a code lingua does not know.
    """
    from lingua import IsoCode639_1, Language

    if not codes:
        return list(Language.all())
    out = []
    for code in codes:
        try:
            out.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
        except ValueError:
            raise RadisError(
                f"params.yaml: filter.lid_languages: lingua has no language {code!r}"
            ) from None
    return out


def lingua_identify(texts: list[str], codes: list[str]) -> list[str]:
    """The language lingua finds in each text (ISO 639-1), ``und`` where it cannot tell."""
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_languages(*lingua_languages(codes)).build()
    found = detector.detect_languages_in_parallel_of(texts)
    return ["und" if lang is None else lang.iso_code_639_1.name.lower() for lang in found]


def identify(cfg: FilterConfig, texts: list[str], expected: list[str]) -> list[str]:
    """The detected language of each text, by the identifier ``cfg.lid``.

    Raises:
        RadisError: If lingua is chosen and cannot name an expected language.
    """
    if cfg.lid == "toy":
        return [toy.identify(t) for t in texts]
    lingua_languages(sorted(set(expected)))
    extra = set(cfg.lid_languages)
    return lingua_identify(texts, sorted(extra | set(expected) | {"en"}) if extra else [])


def filter_translations(
    table: pd.DataFrame, qe: list[float], detected: list[str], threshold: float
) -> tuple[pd.DataFrame, dict]:
    """The rows of an ``sdrrl_mt`` table that pass both filters, and the counts.

    Args:
        table: Translations into one language (column ``lang``).
        qe: Quality score per row.
        detected: Detected language per row.
        threshold: τ; a missing score counts as below it.

    Returns:
        The kept rows (``sdrrl_kept``: with ``qe`` and ``detected``) and, per field and in all,
        the number of rows, kept, below τ, off target (a row may be both) and dropped.
    """
    scored = table.assign(qe=qe, detected=detected).reset_index(drop=True)
    kept, _ = off_target_filter(qe_filter(scored, "qe", threshold)[0], "detected", "lang")
    below = ~(scored.qe >= threshold)
    off = scored.detected != scored.lang

    def counts(mask) -> dict:
        n, k = int(mask.sum()), int((mask & ~below & ~off).sum())
        return dict(
            rows=n,
            kept=k,
            below_threshold=int((mask & below).sum()),
            off_target=int((mask & off).sum()),
            dropped=n - k,
        )

    metrics = counts(pd.Series(True, index=scored.index))
    metrics |= {f: counts(scored.field == f) for f in sorted(set(scored.field))}
    return kept, metrics


def filter_language(
    cfg: FilterConfig, table: pd.DataFrame, lang: str, seed: int
) -> tuple[pd.DataFrame, dict]:
    """Score and filter the translations into ``lang`` (an ``sdrrl_mt`` table).

    Raises:
        RadisError: If no translation is kept (a broken MT system, or τ too high).
    """
    qe = qe_scores(cfg, table.source.tolist(), table.translation.tolist(), lang, seed)
    detected = identify(cfg, table.translation.tolist(), [lang])
    kept, counts = filter_translations(table, qe, detected, cfg.threshold)
    if kept.empty:
        raise RadisError(
            f"filter: every translation into {lang!r} was dropped ({counts['below_threshold']} "
            f"below filter.threshold, {counts['off_target']} off target)"
        )
    return kept, counts


def qe_filter(df: pd.DataFrame, scores: str, threshold: float) -> tuple[pd.DataFrame, int]:
    """Rows whose ``scores`` column is at least ``threshold`` (missing scores are dropped)."""
    keep = df[scores] >= threshold
    return df[keep].reset_index(drop=True), int((~keep).sum())


def off_target_filter(
    df: pd.DataFrame, detected_column: str, expected_column: str
) -> tuple[pd.DataFrame, int]:
    """Rows whose detected language equals the expected one, and the number dropped."""
    keep = df[detected_column] == df[expected_column]
    return df[keep].reset_index(drop=True), int((~keep).sum())
