"""SDRRL (Zhang et al., ACL 2024): self-distillation from a resource-rich language.

Pure table functions for the training mix: the transfer set D_synth (references and the model's
own answers, one per question by a seeded coin flip), the translation filters, the four
language subsets LL/TL/LT/TT, dictionary code-switching of their questions, and the external
parallel data D_mt and D_comp. Every random choice is seeded per row id, so results do not
depend on row order.
"""

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radis.config import probability
from radis.io import RadisError
from radis.templates import language_name

#: The four transfer subsets, then the two external ones, in training order.
SUBSETS = ("LL", "TL", "LT", "TT", "mt", "comp")
COLUMNS = ["id", "subset", "lang", "prompt", "completion"]

#: SDRRL's templates for the external parallel data, verbatim.
MT_TEMPLATE = "Translate the following sentence from {lang1} to {lang2}.\n{source}"
COMP_TEMPLATE = "Complete the following sentence in {lang} according to its context.\n{prefix}"

_TOKEN = re.compile(r"\S+")


@dataclass
class SdrrlConfig:
    """Params of the SDRRL recipe.

    Attributes:
        code_switch_p: Probability that a dictionary-covered question token is switched.
        qe_threshold: Minimum CometKiwi score τ a translation needs to be kept.
    """

    code_switch_p: float = 0.15
    qe_threshold: float = 0.8

    def __post_init__(self):
        probability(code_switch_p=self.code_switch_p)


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


def load_muse_dictionary(path: str | Path) -> dict[str, list[str]]:
    """Read a MUSE bilingual dictionary: one whitespace-separated ``source target`` per line.

    Sources are lower-cased; a source with several lines keeps all its targets, in file order.

    Raises:
        RadisError: If the file is missing or a non-blank line is not exactly two words.
    """
    path = Path(path)
    if not path.is_file():
        raise RadisError(f"{path}: dictionary file not found")
    entries: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise RadisError(f"{path}:{number}: expected 'source target', got {line!r}")
        targets = entries.setdefault(words[0].lower(), [])
        if words[1] not in targets:
            targets.append(words[1])
    return entries


def _is_punct(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def _strip(token: str) -> tuple[str, str, str]:
    """``token`` as (leading punctuation, core, trailing punctuation)."""
    start, end = 0, len(token)
    while start < end and _is_punct(token[start]):
        start += 1
    while end > start and _is_punct(token[end - 1]):
        end -= 1
    return token[:start], token[start:end], token[end:]


def code_switch(text: str, dictionary: dict[str, list[str]], p: float, rng: random.Random) -> str:
    """Replace each dictionary-covered token of ``text`` with probability ``p``.

    A token is a run of non-whitespace; it is covered if its lower-cased core (surrounding
    punctuation stripped) is a dictionary source. A switched token becomes one of its targets
    (chosen with ``rng``) inside the original punctuation. Whitespace is kept as it was.
    """

    def swap(match: re.Match) -> str:
        lead, core, trail = _strip(match.group())
        targets = dictionary.get(core.lower())
        if not targets or rng.random() >= p:
            return match.group()
        return lead + rng.choice(targets) + trail

    return _TOKEN.sub(swap, text)


def code_switch_questions(
    df: pd.DataFrame, dictionaries_by_lang: dict, p: float, seed: int
) -> pd.DataFrame:
    """Code-switch the ``prompt`` of every row with the dictionary of its ``lang``.

    Answers are untouched. Each row draws from its own ``Random(f"{seed}:{id}")``.

    Raises:
        RadisError: If a row's language has no dictionary (pass ``{}`` to leave it as it is).
    """
    missing = sorted(set(df.lang) - set(dictionaries_by_lang))
    if missing:
        raise RadisError(f"code-switching: no dictionary for language(s) {missing}")
    prompts = [
        code_switch(text, dictionaries_by_lang[lang], p, random.Random(f"{seed}:{i}"))
        for i, lang, text in zip(df.id, df.lang, df.prompt)
    ]
    return df.assign(prompt=prompts)


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


def _rows(ids, subset: str, lang, prompts, completions) -> pd.DataFrame:
    """A table in the SDRRL layout; ``lang`` is one code or one per row."""
    ids = list(ids)
    langs = [lang] * len(ids) if isinstance(lang, str) else list(lang)
    values = [ids, [subset] * len(ids), langs, list(prompts), list(completions)]
    return pd.DataFrame(dict(zip(COLUMNS, values)))


def subsets(english: pd.DataFrame, translated: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """D_LL, D_TL, D_LT and D_TT from a transfer set and its (filtered) translations.

    Args:
        english: The transfer set: id, prompt, completion.
        translated: Its translations that survived filtering: id, lang, prompt, completion.

    Returns:
        ``{"LL", "TL", "LT", "TT"}`` to tables with columns id (``"{id}:{subset}:{lang}"``),
        subset, lang (``"en"`` for LL), prompt, completion. LL has one row per English id; the
        other three one per translated row.

    Raises:
        RadisError: If a translation's id is not in the transfer set.
    """
    unknown = sorted(set(translated.id) - set(english.id))
    if unknown:
        raise RadisError(f"translations: id {unknown[0]!r} is not in the transfer set")
    en = english[["id", "prompt", "completion"]]
    both = translated.merge(en, on="id", suffixes=("", "_en"))
    out = {"LL": _rows(en.id + ":LL:en", "LL", "en", en.prompt, en.completion)}
    for name, prompt, completion in (
        ("TL", both.prompt, both.completion_en),
        ("LT", both.prompt_en, both.completion),
        ("TT", both.prompt, both.completion),
    ):
        ids = both.id + f":{name}:" + both.lang
        out[name] = _rows(ids, name, both.lang, prompt, completion)
    return out


def mt_rows(
    pairs: pd.DataFrame, lang_name_fn: Callable[[str], str] = language_name
) -> pd.DataFrame:
    """D_mt: each pair (columns id, lang, en, target) as a translation in both directions."""
    names, fmt = pairs.lang.map(lang_name_fn), MT_TEMPLATE.format
    there = [fmt(lang1="English", lang2=n, source=s) for n, s in zip(names, pairs.en)]
    back = [fmt(lang1=n, lang2="English", source=s) for n, s in zip(names, pairs.target)]
    return pd.concat(
        [
            _rows(pairs.id + ":mt:en-" + pairs.lang, "mt", pairs.lang, there, pairs.target),
            _rows(pairs.id + ":mt:" + pairs.lang + "-en", "mt", pairs.lang, back, pairs.en),
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
