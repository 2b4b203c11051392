"""SDRRL step 4: dictionary code-switching of the questions (MUSE-format dictionaries).

A question token the dictionary covers is replaced by one of its translations with probability
``codeswitch.p`` (the paper's 0.15), drawn from a ``Random`` seeded per row id. Languages written
without spaces are cut into words by longest match against the dictionary. The ``codeswitch``
stage's table (:func:`switch_table`) holds every question switched en → X and its kept
translation X → en.
"""

import random
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radis.core.config import probability
from radis.core.io import RadisError

_TOKEN = re.compile(r"\S+")


#: Inside text written without spaces: a word of Latin letters (with accents) or digits.
_LATIN = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+")


@dataclass
class CodeSwitchConfig:
    """Params ``codeswitch``.

    Attributes:
        p: Probability that a dictionary-covered question token is switched (paper: 0.15).
        dictionaries: Folder of MUSE-format dictionaries ``en-<lang>.txt`` (English questions)
            and ``<lang>-en.txt`` (translated questions) for every language: the toy world's
            (``toy-dictionary``), or MUSE's as fetched (``fetch.hub.dictionaries``).
        unspaced: Languages written without spaces between words: their questions are cut into
            tokens by longest match against the dictionary instead of at whitespace.
    """

    p: float = 0.15
    dictionaries: str = "data/toy/dictionaries"
    unspaced: list = field(default_factory=lambda: ["ja", "zh", "th", "km", "lo", "my"])

    def __post_init__(self):
        probability(p=self.p)


def load_muse_dictionary(path: str | Path) -> dict[str, list[str]]:
    """Read a MUSE bilingual dictionary file (:func:`parse_muse`).

    Raises:
        RadisError: If the file is missing or a line is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise RadisError(f"{path}: dictionary file not found")
    return parse_muse(path.read_text(encoding="utf-8"), str(path))


def parse_muse(text: str, where: str) -> dict[str, list[str]]:
    """A MUSE dictionary: one ``source target`` a line, space- or tab-separated.

    A line with a tab is split at its tab (an entry may then hold spaces), any other at
    whitespace. Sources are lower-cased; a source with several lines keeps all its targets, in
    file order.

    Raises:
        RadisError: If a non-blank line is not exactly two fields, naming ``where`` and the line.
    """
    entries: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = [w.strip() for w in line.split("\t")] if "\t" in line else line.split()
        if not any(words):
            continue
        if len(words) != 2 or not all(words):
            raise RadisError(f"{where}:{number}: expected 'source target', got {line!r}")
        targets = entries.setdefault(words[0].lower(), [])
        if words[1] not in targets:
            targets.append(words[1])
    return entries


def _is_punct(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def split_punctuation(token: str) -> tuple[str, str, str]:
    """``token`` as (leading punctuation, core, trailing punctuation)."""
    start, end = 0, len(token)
    while start < end and _is_punct(token[start]):
        start += 1
    while end > start and _is_punct(token[end - 1]):
        end -= 1
    return token[:start], token[start:end], token[end:]


def code_switch(
    text: str,
    dictionary: dict[str, list[str]],
    p: float,
    rng: random.Random,
    segment: bool = False,
) -> str:
    """Replace each dictionary-covered token of ``text`` with probability ``p``.

    A token is a run of non-whitespace; it is covered if its lower-cased core (surrounding
    punctuation stripped) is a dictionary source. With ``segment`` (a language written without
    spaces) each run is cut further by :func:`segment_words`. A switched token becomes one of its
    targets (chosen with ``rng``) inside the original punctuation. Whitespace is kept as it was.
    """
    return code_switch_counted(text, dictionary, p, rng, segment)[0]


def code_switch_counted(
    text: str,
    dictionary: dict[str, list[str]],
    p: float,
    rng: random.Random,
    segment: bool = False,
) -> tuple[str, int, int]:
    """:func:`code_switch`, with the numbers of covered and of switched tokens."""
    counts = [0, 0]
    longest = max(map(len, dictionary), default=0) if segment else 0

    def swap(token: str) -> str:
        lead, core, trail = split_punctuation(token)
        targets = dictionary.get(core.lower())
        counts[0] += bool(targets)
        if not targets or rng.random() >= p:
            return token
        counts[1] += 1
        return lead + rng.choice(targets) + trail

    def run(match: re.Match) -> str:
        if not segment:
            return swap(match.group())
        return "".join(swap(w) for w in segment_words(match.group(), dictionary, longest))

    return _TOKEN.sub(run, text), counts[0], counts[1]


def segment_words(run: str, dictionary: dict, longest: int) -> list[str]:
    """A whitespace-free ``run`` of a language written without spaces, cut into tokens.

    Left to right, a run of Latin letters or digits is one token; elsewhere the token is the
    longest dictionary source (lower-cased, at most ``longest`` characters) starting there, else
    one character. The tokens join back to ``run``.
    """
    out, i = [], 0
    while i < len(run):
        latin = _LATIN.match(run, i)
        if latin:
            out.append(latin.group())
            i = latin.end()
            continue
        sizes = range(min(longest, len(run) - i), 1, -1)
        size = next((n for n in sizes if run[i : i + n].lower() in dictionary), 1)
        out.append(run[i : i + size])
        i += size
    return out


def invert(dictionary: dict[str, list[str]]) -> dict[str, list[str]]:
    """The dictionary the other way round (targets lower-cased), targets in first-seen order."""
    out: dict[str, list[str]] = {}
    for source, targets in dictionary.items():
        for target in targets:
            sources = out.setdefault(target.lower(), [])
            if source not in sources:
                sources.append(source)
    return out


def reverse_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """MUSE entries ``(source, target)`` turned round: the entries of their :func:`invert`."""
    entries: dict[str, list[str]] = {}
    for source, target in pairs:
        entries.setdefault(source.lower(), []).append(target)
    return [(target, source) for target, sources in invert(entries).items() for source in sources]


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


def read_dictionaries(
    folder: str | Path, languages: list[str], source: str = "en"
) -> tuple[dict, dict]:
    """The dictionaries of every language in ``folder``, MUSE's file names.

    Returns:
        ``({lang: en-<lang>.txt}, {lang: <lang>-en.txt})``: English → X and X → English
        (``source`` in place of ``en`` for another resource-rich language).

    Raises:
        RadisError: If a file is missing or malformed, naming it and its language.
    """
    out: tuple[dict, dict] = ({}, {})
    for lang in languages:
        for table, name in zip(out, (f"{source}-{lang}", f"{lang}-{source}")):
            try:
                table[lang] = load_muse_dictionary(Path(folder) / f"{name}.txt")
            except RadisError as err:
                raise RadisError(f"{err} (language {lang!r})") from None
    return out


def switch_table(
    answers: pd.DataFrame,
    kept: pd.DataFrame,
    dictionaries: dict,
    p: float,
    seed: int,
    back: dict | None = None,
    unspaced: Collection[str] = (),
    source: str = "en",
) -> pd.DataFrame:
    """Every question code-switched, for each language and direction.

    Args:
        answers: The transfer-set sources (``sdrrl_answers``): their English ``question``.
        kept: Filtered translations (``sdrrl_kept``); their ``question`` rows are switched too.
        dictionaries: ``{lang: English → lang dictionary}``.
        p: Probability that a covered token is switched.
        seed: Each (question, direction) draws from ``Random(f"codeswitch:{seed}:{id}:{dir}")``.
        back: ``{lang: lang → English dictionary}`` for X → en; ``None`` inverts
            ``dictionaries``.
        unspaced: Languages written without spaces: their questions are segmented against the
            dictionary (:func:`segment_words`).
        source: The questions' language (``en`` in the directions stands for it).

    Returns:
        A ``codeswitch`` table: direction ``en-X`` for every English question and language,
        ``X-en`` for every kept translated question.
    """
    back = back if back is not None else {lang: invert(d) for lang, d in dictionaries.items()}
    questions = kept[kept.field == "question"]
    jobs = [
        (i, f"{source}-{lang}", q, d, source in unspaced)
        for lang, d in dictionaries.items()
        for i, q in zip(answers.id, answers.question)
    ]
    jobs += [
        (i, f"{lang}-{source}", q, back[lang], lang in unspaced)
        for i, lang, q in zip(questions.id, questions.lang, questions.translation)
    ]
    rows = []
    for i, direction, text, dictionary, segment in jobs:
        rng = random.Random(f"codeswitch:{seed}:{i}:{direction}")
        rows.append((i, direction, *code_switch_counted(text, dictionary, p, rng, segment)))
    return pd.DataFrame(rows, columns=["id", "direction", "prompt", "covered", "switched"])


def switch_summary(table: pd.DataFrame) -> dict:
    """Per direction: questions, covered tokens, switched tokens, and their ratio."""
    out = {}
    for direction, rows in table.groupby("direction", sort=True):
        covered, switched = int(rows.covered.sum()), int(rows.switched.sum())
        out[direction] = dict(
            questions=len(rows),
            covered=covered,
            switched=switched,
            rate=switched / covered if covered else 0.0,
        )
    return out
