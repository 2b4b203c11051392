"""The translation inside a chat model's reply: one rule for every consumer.

Chat backbones seldom answer with the bare translation. LLaMA-2-Chat opens with a preamble
("Sure! Here is the translation of the sentence from English to German:") and puts the
translation, often quoted, on a later line; Mistral-Instruct labels it ("German: ...",
"Translation: ...") or glosses it in parentheses; Qwen mostly answers with the translation alone.
Notes, alternatives, romanisation and word breakdowns follow after a line break. The toy
backbone writes the translation on the first line and its rationale after a line break.

:func:`extract` applies these rules, in order, and names the ones that changed the text:

1. ``preamble``: skip the leading lines that only announce the answer: a courtesy line
   ("Sure, I'd be happy to help!"), a line ending in a colon that announces a translation
   ("Here is the translation of ... into Chinese:", "以下是翻译：") or a bare label
   ("Translation:", "**Übersetzung:**"). An instruction echoed back ("Translate the following
   sentence ...:") is not a preamble. A reply that is all preamble has no translation: ``""``.
2. ``pair``: on a labelled source/target pair ("English: ..." then "Russian: ...", or
   "Original sentence: ..." then "Translation: ..."), take the target line: the one labelled
   with ``tgt_lang``'s name or "translation" (without ``tgt_lang``: the line after a source
   label).
3. ``inline``: a sentence about the translation (a translation word, or "in <language>") that
   quotes it after a connector ("... translates to "X" in English.", "The translation of "..."
   in Chinese is "X".", "In Russian, the sentence would be: "X"") or first (""X" is the
   informal way to say "..." in German."): the quoted text.
4. ``label``: drop a leading label or announcing clause ("Translation:", "German translation:",
   "Chinese:", "In a formal tone:", "The English translation is:").
5. ``markdown``: drop bold or italic marks around the whole line.
6. ``gloss``: drop a trailing parenthesis that glosses rather than translates: a keyword one
   ("(Literally: ...)", "(Pinyin: ...)", "(informal)"), a romanisation (Latin script after a
   Chinese or Cyrillic sentence) or an English back-translation after a non-English sentence.
7. ``quotes``: strip one pair of matching quotes around the whole line (not when the same
   quote mark also occurs inside: ``"A," he said, "B."`` keeps its quotes).

Only the first selected line is kept: everything after it (notes, alternatives, breakdowns,
rationales) is dropped. An extraction is trivial when no rule fired: the translation is the
reply's first non-empty line as it stands, surrounding whitespace aside.
"""

import re
from dataclasses import dataclass

from radis.core.templates import LANGUAGES

#: Names a label may give a language, beyond the English ones of :data:`LANGUAGES`.
NATIVE_NAMES = {
    "cs": ("čeština", "česky"),
    "de": ("deutsch",),
    "ru": ("русский", "по-русски"),
    "zh": ("中文", "汉语"),
    "en": ("英文", "英语"),
}
_LANGS = "|".join(
    sorted(
        {n.lower() for c, n in LANGUAGES.items() if c in NATIVE_NAMES}
        | {n for names in NATIVE_NAMES.values() for n in names},
        key=len,
        reverse=True,
    )
)
#: Words that make a label or a colon line about the translation.
_TRANSLATION = r"translat\w*|übersetz\w*|překlad\w*|перевод\w*|翻译|译文"
_LABEL_WORD = rf"(?:{_TRANSLATION}|{_LANGS}|formal|informal|tone|version|answer)"
_COLON = r"[:：]"
_MD = r"[*_]*"
_COURTESY = (
    r"(?:sure(?: thing)?|certainly|of course|absolutely|okay|ok|great|no problem|"
    r"(?:i'?d|i would|i'?m|i am) (?:be )?(?:very |more than )?(?:happy|glad) to help"
    r"(?: you)?(?: with (?:that|this|the translation))?|happy to help|当然(?:可以)?|好的|конечно)"
)
#: A line made only of courtesy phrases.
COURTESY_LINE = re.compile(rf"(?:{_COURTESY}\s*[!.,。！，]*\s*)+", re.I)
#: An instruction echoed back, which is not a preamble.
ECHO = re.compile(r"(?:could you |can you )?(?:please )?translate\b", re.I)
#: A line announcing the translation that follows (checked on lines ending in a colon).
ANNOUNCES = re.compile(rf"{_TRANSLATION}|{_LANGS}|\btone\b|\bversion\b|would be|^{_COURTESY}", re.I)
#: A leading label of at most three words before a keyword ("German translation (formal):").
LABEL = re.compile(
    rf"{_MD}\s*(?:[\w'-]+\s+){{0,3}}?(?:{_LANGS})?{_LABEL_WORD}(?:\s*\([^()]*\))?"
    rf"\s*{_MD}\s*{_COLON}\s*{_MD}\s*",
    re.I,
)
#: A leading announcing clause before a colon ("Sure! Here's the translation: ...").
ANNOUNCING_CLAUSE = re.compile(
    rf"(?:{_COURTESY}[!.,]?\s*)?(?:here(?:'s| is)|the|this|in)\b[^:：]*?(?:{_TRANSLATION})"
    rf"[^:：]*{_COLON}\s*(?=\S)",
    re.I,
)
#: What makes a line talk about a translation: a translation word or "in <language>".
ABOUT_TRANSLATION = re.compile(rf"{_TRANSLATION}|\bin (?:{_LANGS})\b", re.I)
#: A connector followed by the quoted translation ("translates to "...", "is "...").
CONNECTOR = re.compile(
    r"\b(?:translates? (?:in)?to|translated (?:in)?to|translated as|would be|is)\s*[:：]?\s*"
    r"(?P<open>[\"“„«「'])",
    re.I,
)
#: The quoted translation first, then what it is ("X" is the informal way to say "..." in German).
QUOTED_FIRST = re.compile(
    rf"(?:{_COURTESY}[!.,]?\s*)?(?P<open>[\"“„«「])(?P<text>[^\"“”„«»「」]+)[\"”“»」]\s*"
    r"(?:is|would be)\b.*\b(?:translat\w*|to say|you say|in (?:" + _LANGS + r"))\b",
    re.I,
)
#: A labelled line: the label and the text after it.
LABELLED = re.compile(rf"{_MD}\s*(?P<label>[^:：\"“„«]{{1,30}}?)\s*{_MD}\s*{_COLON}\s*\S")
SOURCE_LABEL = re.compile(r"(?:original|source)(?: sentence| text)?", re.I)
#: Bold or italic marks around the whole line.
MARKDOWN = re.compile(r"(\*\*|__|\*|_)(?P<text>\S(?:.*\S)?)\1")
#: A trailing parenthesis after the sentence it glosses.
TRAILING_PAREN = re.compile(r"(?P<text>.*?\S)\s*[(（](?P<inner>[^()（）]+)[)）]")
GLOSS_KEYWORD = re.compile(
    r"\s*(?:literally|lit\.|pinyin|transliteration|romani[sz]ation|translation|meaning|note|"
    r"formal|informal|polite|casual)\b",
    re.I,
)
SENTENCE_END = re.compile(r"[.!?。！？…\"”»“」]$")
NON_LATIN = re.compile(r"[\u0400-\u04ff\u3400-\u9fff\uf900-\ufaff]")
ENGLISH_WORDS = frozenset(
    "the a an is are was were will be been to of in on at for with and or that this it he she "
    "they we i you not have has had do does did my your his her their our".split()
)
#: Opening quote to its closing quote.
QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "「": "」", "『": "』", "'": "'", "”": "”"}


@dataclass(frozen=True)
class Extraction:
    """An extracted translation and the rules that changed it (empty: trivial)."""

    text: str
    rules: tuple[str, ...] = ()

    @property
    def trivial(self) -> bool:
        """Whether the translation is the reply's first non-empty line as it stands."""
        return not self.rules


def first_line(output: str) -> str:
    """The first non-empty line of ``output``, stripped (``""`` if none)."""
    return next((ln.strip() for ln in output.splitlines() if ln.strip()), "")


def extract(output: str, tgt_lang: str | None = None) -> Extraction:
    """The translation in a model reply, and the rules (module docstring) that produced it.

    Args:
        output: The raw reply.
        tgt_lang: The target language's code when known: it picks the target line of a
            labelled source/target pair.
    """
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    if not lines:
        return Extraction("")
    rules: list[str] = []
    start = next((i for i, ln in enumerate(lines) if not is_preamble(ln)), len(lines))
    if start == len(lines):
        return Extraction("", ("preamble",))
    if start:
        rules.append("preamble")
    i = pick_target(lines, start, tgt_lang)
    if i != start:
        rules.append("pair")
    text = lines[i]
    for name, rule in STEPS:
        new = rule(text)
        if new != text:
            rules.append(name)
            text = new
    return Extraction(text, tuple(rules))


def extract_translation(output: str, tgt_lang: str | None = None) -> str:
    """The translation in a model reply (:func:`extract`'s text)."""
    return extract(output, tgt_lang).text


def is_preamble(line: str) -> bool:
    """Whether ``line`` only announces the answer (rule 1)."""
    if COURTESY_LINE.fullmatch(line) or LABEL.fullmatch(line):
        return True
    bare = line.strip("*_ ")
    return (
        bool(re.search(rf"{_COLON}$", bare))
        and not ECHO.match(bare)
        and bool(ANNOUNCES.search(bare))
    )


def pick_target(lines: list[str], i: int, tgt_lang: str | None) -> int:
    """The target line of a labelled source/target pair starting at ``lines[i]`` (rule 2)."""
    if i + 1 >= len(lines):
        return i
    here, after = LABELLED.match(lines[i]), LABELLED.match(lines[i + 1])
    if not (here and after):
        return i
    if tgt_lang is None:
        return i + 1 if SOURCE_LABEL.fullmatch(here["label"]) else i
    names = NATIVE_NAMES.get(tgt_lang, ()) + (LANGUAGES.get(tgt_lang, tgt_lang).lower(),)
    target = re.compile(rf"\b(?:{'|'.join(map(re.escape, names))}|{_TRANSLATION})", re.I)
    if target.search(here["label"]):
        return i
    source = SOURCE_LABEL.fullmatch(here["label"]) or re.fullmatch(_LANGS, here["label"], re.I)
    return i + 1 if source and target.search(after["label"]) else i


def inline(line: str) -> str:
    """The quoted translation of a sentence that announces it (rule 3)."""
    if not ABOUT_TRANSLATION.search(line):
        return line
    first = QUOTED_FIRST.match(line)
    if first:
        return first["text"].strip()
    for m in CONNECTOR.finditer(line):
        end = line.find(QUOTES[m["open"]], m.end())
        if end > m.end():
            return line[m.end() : end].strip()
    return line


def unlabel(line: str) -> str:
    """``line`` without a leading label or announcing clause (rule 4)."""
    m = LABEL.match(line) or ANNOUNCING_CLAUSE.match(line)
    return line[m.end() :].strip() if m and m.end() < len(line) else line


def unmark(line: str) -> str:
    """``line`` without bold or italic marks around it (rule 5)."""
    m = MARKDOWN.fullmatch(line)
    return m["text"] if m else line


def ungloss(line: str) -> str:
    """``line`` without a trailing glossing parenthesis (rule 6)."""
    m = TRAILING_PAREN.fullmatch(line)
    if not m:
        return line
    text, inner = m["text"], m["inner"]
    if GLOSS_KEYWORD.match(inner):
        return text
    if not SENTENCE_END.search(text):
        return line
    if NON_LATIN.search(text) and not NON_LATIN.search(inner) and len(inner.split()) >= 2:
        return text  # romanisation or English gloss of a Chinese or Cyrillic sentence
    if english_share(inner) >= 0.25 and english_share(text) < 0.1 and SENTENCE_END.search(inner):
        return text  # English back-translation of a sentence in another Latin-script language
    return line


def unquote(line: str) -> str:
    """``line`` without one pair of matching quotes around it (rule 7)."""
    close, inside = QUOTES.get(line[:1]), line[1:-1]
    if len(line) >= 2 and close and line[-1] == close and not {line[0], close} & set(inside):
        return inside.strip()
    return line


def english_share(text: str) -> float:
    """Share of ``text``'s words that are common English function words."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return sum(w in ENGLISH_WORDS for w in words) / len(words) if words else 0.0


#: Rules 3-7, applied in order to the selected line.
STEPS = (
    ("inline", inline),
    ("label", unlabel),
    ("markdown", unmark),
    ("gloss", ungloss),
    ("quotes", unquote),
)
