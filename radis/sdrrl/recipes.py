"""SDRRL's training sets (Zhang et al., ACL 2024): SDRRL and its baselines SFT, T-SFT, CIT, XCOT.

Pure table functions for the training mix: the transfer set D_synth (references and the model's
own answers, one per question by a seeded coin flip), the four language subsets LL/TL/LT/TT
(their questions code-switched by :mod:`radis.sdrrl.codeswitch`), and the external parallel
data D_mt and D_comp. Every random choice is seeded per row id, so results do not depend on row
order. :func:`build_sdrrl` makes ``build.<method>``'s training set for every SDRRL recipe.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from radis.core.config import positive
from radis.core.io import RadisError, read_table
from radis.core.schemas import SDRRL_KEPT
from radis.core.templates import language_name

#: The four transfer subsets, then the two external ones, in training order.
SUBSETS = ("LL", "TL", "LT", "TT", "mt", "comp")


COLUMNS = ["id", "subset", "lang", "prompt", "completion"]


#: SDRRL's templates for the external parallel data, verbatim.
MT_TEMPLATE = "Translate the following sentence from {lang1} to {lang2}.\n{source}"


_TOKEN = re.compile(r"\S+")
COMP_TEMPLATE = "Complete the following sentence in {lang} according to its context.\n{prefix}"


def transfer_set(references: pd.DataFrame, self_answers: pd.DataFrame, seed: int) -> pd.DataFrame:
    """D_synth: per question, the reference or the model's own answer, equally likely.

    Args:
        references: D, columns id, prompt, completion (the human answers).
        self_answers: G, the same ids, completion being the model's own answer.
        seed: Decides the coin flips (per id, so independent of row order).

    Returns:
        Columns id, prompt, completion, source (``"reference"`` or ``"self"``).

    Raises:
        RadisError: If the two tables do not hold the same ids.
    """
    if set(references.id) != set(self_answers.id):
        extra = sorted(set(references.id) ^ set(self_answers.id))
        raise RadisError(f"transfer set: references and self answers differ on id {extra[0]!r}")
    out = references[["id", "prompt", "completion"]].reset_index(drop=True)
    heads = out.id.map(lambda i: random.Random(f"transfer:{seed}:{i}").random() < 0.5)
    own = out.id.map(dict(zip(self_answers.id, self_answers.completion)))
    source = heads.map({True: "self", False: "reference"})
    return out.assign(completion=own.where(heads, out.completion), source=source)


def _rows(ids, subset: str, lang, prompts, completions) -> pd.DataFrame:
    """A table in the SDRRL layout; ``lang`` is one code or one per row."""
    ids = list(ids)
    langs = [lang] * len(ids) if isinstance(lang, str) else list(lang)
    values = [ids, [subset] * len(ids), langs, list(prompts), list(completions)]
    return pd.DataFrame(dict(zip(COLUMNS, values)))


def subsets(
    english: pd.DataFrame, translated: pd.DataFrame, source: str = "en"
) -> dict[str, pd.DataFrame]:
    """D_LL, D_TL, D_LT and D_TT from a transfer set and its (filtered) translations.

    Args:
        english: The transfer set (in the ``source`` language): id, prompt, completion.
        translated: Its translations that survived filtering (:func:`translated_pairs`): id,
            lang, prompt (the translated question, missing where it was dropped), completion
            (the translated answer, missing where it was dropped).
        source: The resource-rich language (``selfanswer.source_language``): LL's ``lang``.

    Returns:
        ``{"LL", "TL", "LT", "TT"}`` to tables with columns id (``"{id}:{subset}:{lang}"``),
        subset, lang (``source`` for LL), prompt, completion. LL has one row per English id; TL
        one per kept question translation T(x), LT one per kept answer translation T(y), TT one
        per row with both.

    Raises:
        RadisError: If a translation's id is not in the transfer set.
    """
    unknown = sorted(set(translated.id) - set(english.id))
    if unknown:
        raise RadisError(f"translations: id {unknown[0]!r} is not in the transfer set")
    en = english[["id", "prompt", "completion"]]
    both = translated.merge(en, on="id", suffixes=("", "_en"))
    question, answer = both.prompt.notna(), both.completion.notna()
    out = {"LL": _rows(en.id + f":LL:{source}", "LL", source, en.prompt, en.completion)}
    for name, keep, prompt, completion in (
        ("TL", question, "prompt", "completion_en"),
        ("LT", answer, "prompt_en", "completion"),
        ("TT", question & answer, "prompt", "completion"),
    ):
        rows = both[keep]
        ids = rows.id + f":{name}:" + rows.lang
        out[name] = _rows(ids, name, rows.lang, rows[prompt], rows[completion])
    return out


def mt_rows(
    pairs: pd.DataFrame, lang_name_fn: Callable[[str], str] = language_name, source: str = "en"
) -> pd.DataFrame:
    """D_mt: each pair (columns id, lang, en, target) as a translation in both directions.

    ``en`` holds the sentence in the ``source`` language (English in the paper).
    """
    names, fmt, src = pairs.lang.map(lang_name_fn), MT_TEMPLATE.format, lang_name_fn(source)
    there = [fmt(lang1=src, lang2=n, source=s) for n, s in zip(names, pairs.en)]
    back = [fmt(lang1=n, lang2=src, source=s) for n, s in zip(names, pairs.target)]
    return pd.concat(
        [
            _rows(pairs.id + f":mt:{source}-" + pairs.lang, "mt", pairs.lang, there, pairs.target),
            _rows(pairs.id + ":mt:" + pairs.lang + f"-{source}", "mt", pairs.lang, back, pairs.en),
        ],
        ignore_index=True,
    )


def cut(sentence: str, rng: random.Random) -> str | None:
    """``sentence`` cut before a random word, keeping at least one word and removing one.

    Returns None for a sentence of fewer than two words.
    """
    starts = [m.start() for m in _TOKEN.finditer(sentence)]
    if len(starts) < 2:
        return None
    return sentence[: starts[rng.randint(1, len(starts) - 1)]].rstrip()


def completion_rows(
    pairs: pd.DataFrame, seed: int, lang_name_fn: Callable[[str], str] = language_name
) -> pd.DataFrame:
    """D_comp: each target sentence of ``pairs`` completed from a seeded prefix.

    Sentences of fewer than two words are skipped. The cut of a pair is drawn from
    ``Random(f"comp:{seed}:{id}")``.
    """
    rows = []
    for i, lang, sentence in zip(pairs.id, pairs.lang, pairs.target):
        prefix = cut(sentence, random.Random(f"comp:{seed}:{i}"))
        if prefix is not None:
            prompt = COMP_TEMPLATE.format(lang=lang_name_fn(lang), prefix=prefix)
            rows.append((f"{i}:comp:{lang}", "comp", lang, prompt, sentence))
    return pd.DataFrame(rows, columns=COLUMNS)


def mix(subsets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The training table: the six subsets, in :data:`SUBSETS` order, tagged by ``subset``.

    The trainer sums, over the values of ``subset``, each subset's mean loss.

    Raises:
        RadisError: If a subset is missing or unknown, or two rows share an id.
    """
    if set(subsets) != set(SUBSETS):
        raise RadisError(f"SDRRL mix: expected subsets {list(SUBSETS)}, got {sorted(subsets)}")
    table = pd.concat(
        [subsets[name].assign(subset=name)[COLUMNS] for name in SUBSETS], ignore_index=True
    )
    duplicated = table.id[table.id.duplicated()]
    if len(duplicated):
        raise RadisError(f"SDRRL mix: id {duplicated.iloc[0]!r} appears twice")
    return table


@dataclass
class SdrrlMethodConfig:
    """Params ``build.<method>`` of SDRRL and its baselines.

    Attributes:
        recipe: ``sdrrl``: D_LL, D_TL, D_LT, D_TT from the transfer set (references and self
            answers), questions code-switched, plus D_mt and D_comp. ``sft``: the English
            instruction data. ``t-sft``: it and its translations (question and reference in each
            target language). ``cit``: the question in the source language, the reference
            answer translated (LT), the answer's language asked for (SDRRL's definition:
            "respond in the target language given the source language as context"). ``xcot``:
            LL, TT and TL from the
            references, every question code-switched (TL, target question → English answer, is
            the cross-lingual distillation). The baselines use no self answer and no parallel
            data.
        code_switch: (sdrrl) Train on the code-switched questions; false is the ablation.
        parallel_pairs: (sdrrl) Parallel pairs per language for D_mt and D_comp (paper: 1000
            Opus-100 pairs).
        answer_directive: (cit) A line appended to each question, ``{language}`` being the
            answer's (target) language; empty adds nothing. The paper gives no wording: ours.
        train: Overrides of params ``train`` for this method (read by ``train@<method>``,
            checked there): SDRRL's schedule next to RaDis's.
    """

    recipe: Literal["sdrrl", "sft", "t-sft", "cit", "xcot"] = "sdrrl"
    code_switch: bool = True
    parallel_pairs: int = 1000
    answer_directive: str = "Answer in {language}."
    train: dict = field(default_factory=dict)

    def __post_init__(self):
        positive(parallel_pairs=self.parallel_pairs)
        try:
            self.answer_directive.format(language="English")
        except (KeyError, IndexError, ValueError):
            raise ValueError(
                f"answer_directive: only {{language}} may be filled in, got "
                f"{self.answer_directive!r}"
            ) from None


@dataclass
class SdrrlInputs:
    """The tables a recipe reads (which ones: :data:`radis.data.build.RECIPES`; None: not read).

    Attributes:
        answers: ``sdrrl_answers``: the questions, their references and self answers.
        kept: ``sdrrl_kept`` of every target language, concatenated.
        switched: ``codeswitch``.
        parallel: ``translation`` rows of the parallel data (``data/fetch/parallel.parquet``:
            Opus-100's sample in the SDRRL setup, the translation train split otherwise).
        languages: The target languages.
        source: The resource-rich (source) language of the instruction data
            (``selfanswer.source_language``; paper: English, French in its appendix C).
    """

    answers: pd.DataFrame
    kept: pd.DataFrame | None = None
    switched: pd.DataFrame | None = None
    parallel: pd.DataFrame | None = None
    languages: list = field(default_factory=list)
    source: str = "en"


def references(answers: pd.DataFrame) -> pd.DataFrame:
    """D: each question with its reference (columns id, prompt, completion)."""
    return pd.DataFrame(
        {"id": answers.id, "prompt": answers.question, "completion": answers.reference}
    ).reset_index(drop=True)


def synthetic(answers: pd.DataFrame, seed: int) -> pd.DataFrame:
    """D_synth (:func:`transfer_set`); an empty self answer falls back to the reference."""
    empty = answers.answer.str.strip() == ""
    own = references(answers).assign(completion=answers.answer.where(~empty, answers.reference))
    out = transfer_set(references(answers), own, seed)
    fallback = out.id.isin(set(answers.id[empty]))
    return out.assign(source=out.source.where(~fallback, "reference"))


def translated_pairs(kept: pd.DataFrame, answer_field: pd.Series | str) -> pd.DataFrame:
    """Translated (question, answer) pairs where at least one of the two translations was kept.

    D_TL needs only the question's translation, D_LT only the answer's (:func:`subsets`), so a
    pair is kept when either passed the filters; the other side is missing (None) then.

    Args:
        kept: ``sdrrl_kept`` rows.
        answer_field: ``reference`` or ``self`` for every id, or a Series id → field.

    Returns:
        Columns id, lang, prompt (translated question or None), completion (translated answer or
        None), sorted by language and id.
    """
    q = kept[kept.field == "question"][["id", "lang", "translation"]]
    a = kept[kept.field != "question"]
    want = a.id.map(answer_field) if isinstance(answer_field, pd.Series) else answer_field
    a = a[a.field == want][["id", "lang", "translation"]]
    both = q.merge(a, on=["id", "lang"], how="outer", suffixes=("_q", "_a"), sort=True)
    both = both.astype(object).where(both.notna(), None)
    return pd.DataFrame(
        {
            "id": both.id,
            "lang": both.lang,
            "prompt": both.translation_q,
            "completion": both.translation_a,
        }
    ).reset_index(drop=True)


def ll_language(question_id: str, languages: list[str], seed: int) -> str:
    """The language an English (LL) question is code-switched into: seeded per question."""
    return random.Random(f"ll-language:{seed}:{question_id}").choice(sorted(languages))


def switch_parts(
    parts: dict, switched: pd.DataFrame, languages: list, seed: int, source: str = "en"
) -> dict:
    """Replace the questions of LL/LT (en-X) and TL/TT (X-en) by their code-switched versions.

    ``en`` stands for the ``source`` language: the directions are ``<source>-X`` and
    ``X-<source>``.

    Raises:
        RadisError: If the code-switch table lacks a question (it is stale: rerun codeswitch).
    """
    lookup = dict(zip(zip(switched.id, switched.direction), switched.prompt))
    out = {}
    for name, df in parts.items():
        base = df.id.str.rsplit(":", n=2).str[0]
        if name == "LL":
            directions = [f"{source}-{ll_language(i, languages, seed)}" for i in base]
        else:
            english = name in ("LT",)
            directions = [f"{source}-{x}" if english else f"{x}-{source}" for x in df.lang]
        keys = list(zip(base, directions))
        missing = [k for k in keys if k not in lookup]
        if missing:
            raise RadisError(f"codeswitch table: no question {missing[0]}; rerun codeswitch")
        out[name] = df.assign(prompt=[lookup[k] for k in keys])
    return out


def parallel_pairs(
    parallel: pd.DataFrame, n: int, languages: list[str], seed: int, source: str = "en"
) -> pd.DataFrame:
    """A seeded sample of ``n`` English → X pairs per language (columns id, lang, en, target).

    Args:
        parallel: The parallel data (``translation`` rows); its English → X rows are drawn.
        n: Pairs per language.
        languages: The target languages.
        seed: Each language draws from ``Random(f"parallel:{seed}:{lang}")``.
        source: The resource-rich language (``en``: the column ``en`` holds its sentence).

    Raises:
        RadisError: If a language has fewer than ``n`` pairs.
    """
    out = []
    for lang in languages:
        rows = parallel[(parallel.src_lang == source) & (parallel.tgt_lang == lang)]
        if len(rows) < n:
            raise RadisError(
                f"build: parallel_pairs: {n} asked, the parallel data has {len(rows)} "
                f"{source}-{lang} "
                "pairs (fetch.hub.parallel.pairs)"
            )
        ids = random.Random(f"parallel:{seed}:{lang}").sample(sorted(rows.id), n)
        rows = rows.set_index("id").loc[sorted(ids)].reset_index()
        out.append(
            pd.DataFrame({"id": rows.id, "lang": lang, "en": rows.source, "target": rows.reference})
        )
    return pd.concat(out, ignore_index=True)


def _cit(parts: dict, directive: str) -> pd.DataFrame:
    """CIT as SDRRL defines it: the source-language question, the answer in the target language.

    That is LT; the directive line after the question names the answer's language.
    """
    lt = parts["LT"]
    if not directive:
        return lt.reset_index(drop=True)
    names = lt.lang.map(language_name)
    prompts = [f"{p}\n{directive.format(language=n)}" for p, n in zip(lt.prompt, names)]
    return lt.assign(prompt=prompts).reset_index(drop=True)


def build_sdrrl(cfg: SdrrlMethodConfig, inputs: SdrrlInputs, seed: int) -> pd.DataFrame:
    """The training set of an SDRRL recipe, in the ``train_set`` layout.

    Returns:
        Columns id, subset, lang, prompt, completion, masked_suffix (empty: every reply token is
        learned) and group: the subset for ``sdrrl`` (its loss sums each subset's mean), empty
        for the baselines (one token mean, LLaMA-Factory's default). ``id`` is
        ``<question id>:<subset>:<lang>`` (``<pair id>:mt:<dir>`` and ``<pair id>:comp:<lang>``
        for the parallel data).
    """
    out = _recipe(cfg, inputs, seed).reset_index(drop=True)
    return out.assign(masked_suffix="", group=out.subset if cfg.recipe == "sdrrl" else "")


def _recipe(cfg: SdrrlMethodConfig, inputs: SdrrlInputs, seed: int) -> pd.DataFrame:
    if cfg.recipe == "sft":
        d = references(inputs.answers)
        return _rows(d.id + f":LL:{inputs.source}", "LL", inputs.source, d.prompt, d.completion)
    if cfg.recipe == "sdrrl":
        synth = synthetic(inputs.answers, seed)
        field_of = synth.set_index("id").source
        parts = subsets(synth, translated_pairs(inputs.kept, field_of), inputs.source)
        if cfg.code_switch:
            parts = switch_parts(parts, inputs.switched, inputs.languages, seed, inputs.source)
        pairs = parallel_pairs(
            inputs.parallel, cfg.parallel_pairs, inputs.languages, seed, inputs.source
        )
        mt = mt_rows(pairs, source=inputs.source)
        return mix(parts | {"mt": mt, "comp": completion_rows(pairs, seed)})
    kept = translated_pairs(inputs.kept, "reference")
    parts = subsets(references(inputs.answers), kept, inputs.source)
    if cfg.recipe == "t-sft":
        return pd.concat([parts["LL"], parts["TT"]], ignore_index=True)
    if cfg.recipe == "cit":
        return _cit(parts, cfg.answer_directive)
    parts = {k: parts[k] for k in ("LL", "TL", "TT")}
    parts = switch_parts(parts, inputs.switched, inputs.languages, seed, inputs.source)
    return pd.concat(parts.values(), ignore_index=True)


def read_kept(folder: str | Path, languages: list[str]) -> pd.DataFrame:
    """The filtered translations ``<folder>/<lang>.parquet`` of every language, concatenated."""
    tables = [read_table(Path(folder) / f"{lang}.parquet", SDRRL_KEPT) for lang in languages]
    return pd.concat(tables, ignore_index=True)
