"""The toy world's stand-ins for SDRRL's external tools.

- :func:`dictionary`: a bilingual dictionary English → toy language, in MUSE's layout, from the
  toy lexicon (every inflected form of every content word, and the grammar's particles).
- :class:`ToyTranslator`: a rule-based English → toy-language translator with seeded,
  param-controlled noise, behind the generation :class:`~radis.generate.backend.Backend` interface
  (so it shards and resumes like a model). It glosses word by word with the lexicon and the
  grammar's morphology: plural marking, articles, qa's noun–adjective order. The parallel corpus's
  clause order (qa SOV, qb VSO) is not applied: instruction data are not toy clauses. Words outside
  the lexicon get a seeded pseudo-word of the language's syllables; numbers and names stay.
- :func:`quality`: a reference-free quality score in [0, 1] standing in for CometKiwi: it knows
  the languages, so it scores how far a translation is from the noise-free gloss of its source
  (1 − word edit distance / length).
- :func:`identify`: a language identifier standing in for lingua: each word votes for the toy
  languages whose syllables it is made of, or for English if none.
"""

import functools
import random
from dataclasses import dataclass

from radis.core.config import probability
from radis.core.io import RadisError
from radis.generate.backend import Completion, GenerationConfig
from radis.sdrrl.codeswitch import split_punctuation
from radis.toy import lexicon as lx
from radis.toy.lexicon import SYLLABLES, make_lexicon

#: Particles of each toy grammar: the article and "near" (qa has no article).
PARTICLES = {"qa": {"near": "ta"}, "qb": {"the": "lo", "near": "ke"}}
#: Noise kinds, drawn uniformly for a noisy word.
NOISE = ("drop", "swap", "copy")


def check_language(lang: str) -> str:
    """Return ``lang`` if it is a toy language, else raise a one-line error."""
    if lang not in SYLLABLES:
        raise RadisError(f"toy world: {lang!r} is not a toy language; known {list(SYLLABLES)}")
    return lang


def toy_languages(languages: list[str]) -> list[str]:
    """The toy languages among ``languages`` (the paper setup's real ones have none)."""
    return [lang for lang in languages if lang in SYLLABLES]


def plural(lang: str, word: str) -> str:
    """The plural of toy noun ``word``: qa suffixes ``en``, qb prefixes ``mi``."""
    return word + "en" if lang == "qa" else "mi" + word


@functools.cache
def word_map(lang: str, seed: int) -> dict[str, str]:
    """Every English word form the lexicon covers → its ``lang`` form (qa drops ``the``)."""
    lex = make_lexicon(check_language(lang), seed)
    out = {n: lex[n] for n in lx.NOUNS} | {n + "s": plural(lang, lex[n]) for n in lx.NOUNS}
    out |= {a: lex[a] for a in lx.ADJECTIVES}
    out |= {form: lex[base] for base, third in lx.VERBS for form in (base, third)}
    return out | PARTICLES[lang] | ({"the": ""} if lang == "qa" else {})


def dictionary(lang: str, seed: int) -> list[tuple[str, str]]:
    """MUSE entries ``(english, target)`` of toy language ``lang``, sorted."""
    return sorted((en, tgt) for en, tgt in word_map(lang, seed).items() if tgt)


def muse_text(entries: list[tuple[str, str]]) -> str:
    """``entries`` in MUSE's format: one ``source target`` pair a line."""
    return "".join(f"{source} {target}\n" for source, target in entries)


@functools.cache
def pseudo_word(word: str, lang: str, seed: int) -> str:
    """A seeded word of 2-3 ``lang`` syllables for an English word outside the lexicon."""
    taken = set(word_map(lang, seed).values())
    rng = random.Random(f"pseudo:{lang}:{seed}:{word}")
    syllables = SYLLABLES[lang].split()
    while (w := "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))) in taken:
        pass
    return w


def _gloss_core(core: str, lang: str, seed: int) -> str:
    """The lower-case ``lang`` form of one word; numbers, names and symbols stay as they are."""
    if not any(c.isalpha() for c in core) or core in lx.NAMES:
        return core
    word = core.lower()
    known = word_map(lang, seed).get(word)
    return pseudo_word(word, lang, seed) if known is None else known


def gloss_units(line: str, lang: str, seed: int) -> list[list[str]]:
    """Units ``[lead, english core, target core, trail]`` of one line, noise-free.

    qa puts an adjective after the noun it precedes, as its grammar does. A word in a position
    that was capitalised in English is capitalised.
    """
    units = [
        [lead, core, _gloss_core(core, lang, seed), trail]
        for lead, core, trail in map(split_punctuation, line.split())
    ]
    nouns = set(lx.NOUNS) | {n + "s" for n in lx.NOUNS}
    if lang == "qa":
        for a, b in zip(units, units[1:]):
            if a[1].lower() in lx.ADJECTIVES and b[1].lower() in nouns and not a[3] + b[0]:
                a[2], b[2] = b[2], a[2]
    for unit in units:
        if unit[1][:1].isupper() and unit[1] not in lx.NAMES:
            unit[2] = unit[2].capitalize()
    return units


def render(units: list[list[str]]) -> str:
    """Join units into a line; a unit with nothing left (qa's dropped article) disappears."""
    return " ".join(t for lead, _, core, trail in units if (t := lead + core + trail))


@dataclass
class ToyNoiseConfig:
    """Params ``machine_translate.toy``: the toy translator's errors, so the filters have work.

    Attributes:
        word_noise: Probability that a translatable word is dropped, swapped with the next word
            or left in English (one of the three, equally likely).
        english_rate: Probability that a whole text comes back untranslated (off target).
    """

    word_noise: float = 0.05
    english_rate: float = 0.05

    def __post_init__(self):
        probability(word_noise=self.word_noise, english_rate=self.english_rate)


def noisy(units: list[list[str]], p: float, rng: random.Random) -> list[list[str]]:
    """Apply word noise to ``units`` (copies); only words with letters are touched."""
    units = [list(u) for u in units]
    for i, unit in enumerate(units):
        if not any(c.isalpha() for c in unit[1]) or unit[1] in lx.NAMES or rng.random() >= p:
            continue
        kind = rng.choice(NOISE)
        if kind == "drop":
            unit[2] = ""
        elif kind == "copy":
            unit[2] = unit[1]
        elif i + 1 < len(units):
            unit[2], units[i + 1][2] = units[i + 1][2], unit[2]
    return units


class ToyTranslator:
    """English → toy language ``lang``: a generation backend over source texts.

    Noise is drawn from ``Random`` seeded by (seed, language, text), so a text always gets the
    same translation, whatever the batch or order.
    """

    tokenizer = None

    def __init__(self, lang: str, noise: ToyNoiseConfig, seed: int):
        """Translate into ``lang`` with ``noise``; ``seed`` decides words and noise."""
        self.lang, self.noise, self.seed = check_language(lang), noise, seed

    def translate(self, text: str, clean: bool = False) -> str:
        """One text, line by line (whitespace inside a line is normalised to single spaces)."""
        rng = random.Random(f"toy-mt:{self.seed}:{self.lang}:{text}")
        if not clean and rng.random() < self.noise.english_rate:
            return text
        p = 0.0 if clean else self.noise.word_noise
        lines = [gloss_units(line, self.lang, self.seed) for line in text.split("\n")]
        return "\n".join(render(noisy(units, p, rng)) for units in lines)

    def generate(self, prompts: list[str], cfg: GenerationConfig) -> list[Completion]:
        """Translate every text; ``cfg`` is ignored (the toy needs no decoding params)."""
        outs = [self.translate(p) for p in prompts]
        return [
            Completion(o, "stop", len(p.split()), len(o.split())) for p, o in zip(prompts, outs)
        ]


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two word sequences."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def quality(sources: list[str], translations: list[str], lang: str, seed: int) -> list[float]:
    """Reference-free toy QE: 1 − word edit distance to the noise-free gloss / the longer length."""
    clean = ToyTranslator(lang, ToyNoiseConfig(0.0, 0.0), seed)
    scores = []
    for src, hyp in zip(sources, translations):
        ref, out = clean.translate(src, clean=True).split(), hyp.split()
        longest = max(len(ref), len(out))
        scores.append(1.0 - edit_distance(ref, out) / longest if longest else 1.0)
    return scores


def _made_of(word: str, syllables: frozenset[str]) -> bool:
    """Whether ``word`` is a sequence of at least one of ``syllables``."""
    ok = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        ok[end] = any(ok[end - len(s)] and word.endswith(s, 0, end) for s in syllables)
    return bool(word) and ok[-1]


def is_word_of(word: str, lang: str) -> bool:
    """Whether lower-case ``word`` can be a ``lang`` word.

    It can if it is a particle of ``lang``, or a run of ``lang`` syllables with or without the
    plural mark.
    """
    syllables = frozenset(SYLLABLES[lang].split())
    if word in PARTICLES[lang].values():
        return True
    stems = [word] + ([word[:-2]] if lang == "qa" and word.endswith("en") else [])
    stems += [word[2:]] if lang == "qb" and word.startswith("mi") else []
    return any(_made_of(s, syllables) for s in stems)


def identify(text: str) -> str:
    """The language of ``text``: ``en``, a toy language, or ``und`` (no word, or a tie).

    Each word with letters votes, split evenly among the toy languages it can belong to, or for
    ``en`` if none; names vote ``en`` too.
    """
    votes: dict[str, float] = {}
    for token in text.split():
        core = split_punctuation(token)[1].lower()
        if not any(c.isalpha() for c in core):
            continue
        langs = [lang for lang in SYLLABLES if is_word_of(core, lang)] or ["en"]
        for lang in langs:
            votes[lang] = votes.get(lang, 0.0) + 1.0 / len(langs)
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return "und"
    return ranked[0][0]
