"""SDRRL's scores of generated text: MKQA F1, XL-SUM ROUGE and the off-target rate.

- MKQA: token F1 against the best gold answer by the rules of MKQA's official script
  (``mkqa_eval_util.py`` of apple/ml-mkqa): lower case; ASCII punctuation
  (``string.punctuation``) removed, other punctuation kept; the articles of the language
  removed; tokens split at whitespace, or one token per non-space character in the languages
  MKQA segments that way (Chinese, Japanese, Thai, Khmer). The language is MKQA's own key
  (``zh_cn``, ``no``).
- XL-SUM: ROUGE-1 and ROUGE-L F1 of ``rouge_score`` over tokens made the way XL-SUM's authors'
  ``multilingual_rouge_scoring`` makes them (their fork is not on PyPI and installs as
  ``rouge_score``; a third party's 0.0.1 repackaging, ``multilingual-rouge``, needs pyonmttok,
  jieba, pythainlp and fugashi with a UniDic dictionary downloaded at run time): lower case; control
  characters dropped; Unicode punctuation (and ASCII symbols) removed; letter runs, digit runs
  and each other symbol are tokens (OpenNMT's ``aggressive`` mode); CJK ideographs one token
  each; words longer than 3 characters stemmed by NLTK's Snowball stemmer where Snowball has
  the language (English, Portuguese, Russian, ...), as XL-SUM's ``--use_stemmer --lang``.
  Two differences: where XL-SUM segments words with a dictionary (Chinese: jieba, Japanese:
  MeCab, Thai: newmm), each character of those scripts (and of Lao, Khmer, Myanmar) is a token;
  Snowball stems stop words too (XL-SUM leaves them, from NLTK's downloaded stop-word lists).
- Off target: the share (%) of answers whose identified language is another language than the
  one asked for (SDRRL's Figure 3). An answer whose language cannot be told (``und``: a number,
  an empty answer) is not off target; it stays in the count.
"""

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

#: MKQA's languages segmented into characters (``MIXED_SEGMENTATION_LANGS``).
MKQA_CHARACTER_LANGS = frozenset({"zh_cn", "zh_hk", "zh_tw", "ja", "th", "km"})
#: The articles MKQA's script removes, by MKQA key, for the languages :data:`CODES` reaches.
MKQA_ARTICLES = {
    "en": "a an the",
    "de": "ein eine einen einem eines einer der die das den dem des",
    "da": "en et",
    "no": "en et ei",
    "fi": "se yks yksi",
    "hu": "a az egy",
    "pt": "o a os as um uma uns umas",
    "vi": "của là cái chiếc những",
}
_ARTICLE_RE = {k: re.compile(rf"\b({'|'.join(v.split())})\b") for k, v in MKQA_ARTICLES.items()}
_ASCII_PUNCTUATION = frozenset(string.punctuation)

#: XL-SUM's CJK ideograph ranges (BERT's ``_is_chinese_char``): one token each.
CJK = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF))
CJK += ((0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0x2F800, 0x2FA1F))
#: Scripts XL-SUM segments with a dictionary, or that have no spaces: one token per character.
UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF))


def mkqa_tokens(text: str, key: str) -> list[str]:
    """The tokens of ``text`` by MKQA's official normalisation in MKQA language ``key``."""
    text = "".join(c for c in text.lower() if c not in _ASCII_PUNCTUATION)
    if key in _ARTICLE_RE:
        text = _ARTICLE_RE[key].sub(" ", text)
    if key in MKQA_CHARACTER_LANGS:
        return [c for c in text if c.strip()]
    return text.split()


def mkqa_f1(prediction: str, answers: Sequence[str], key: str) -> float:
    """MKQA's token F1 of ``prediction`` against its best gold answer, in [0, 1].

    Shared tokens count with multiplicity; where the prediction or an answer has no token, the
    pair scores 1 if both have none and 0 otherwise.

    Raises:
        ValueError: If ``answers`` is empty (MKQA's script asserts that too).
    """
    if not answers:
        raise ValueError("mkqa_f1: no gold answer")
    pred = mkqa_tokens(prediction, key)
    best = 0.0
    for answer in answers:
        gold = mkqa_tokens(answer, key)
        if not gold or not pred:
            best = max(best, float(gold == pred))
            continue
        shared = sum((Counter(pred) & Counter(gold)).values())
        if shared:
            precision, recall = shared / len(pred), shared / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def _in(code: int, ranges: tuple) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def _kind(char: str) -> str:
    """XL-SUM's class of a character: space, drop, single (a token alone), letter or digit."""
    code, cat = ord(char), unicodedata.category(char)
    if char in " \t\n\r" or cat == "Zs":
        return "space"
    if code in (0, 0xFFFD) or cat.startswith("C"):
        return "drop"  # control and format characters vanish, joining their neighbours
    ascii_symbol = 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126
    if ascii_symbol or cat.startswith("P"):
        return "space"  # punctuation is removed and splits the word
    if _in(code, CJK) or _in(code, UNSPACED):
        return "single"
    if cat[0] in "LM":
        return "letter"
    return "digit" if cat[0] == "N" else "single"


def xlsum_tokens(text: str, stem=None) -> list[str]:
    """The tokens of ``text`` by XL-SUM's multilingual ROUGE (see the module docstring).

    Args:
        text: A summary.
        stem: The language's stemmer (``str -> str``), applied to tokens over 3 characters.
    """
    tokens, current, kind = [], "", ""
    for char in text.lower():
        k = _kind(char)
        if k == "drop":
            continue
        if k == kind and k in ("letter", "digit"):
            current += char
            continue
        if current:
            tokens.append(current)
        current, kind = ("" if k == "space" else char), k
    if current:
        tokens.append(current)
    if stem is not None:
        tokens = [stem(t) if len(t) > 3 else t for t in tokens]
    return [t for t in tokens if t]


@lru_cache
def snowball(language: str | None):
    """NLTK's Snowball stemmer of XL-SUM language name ``language``; None where it has none."""
    from nltk.stem.snowball import SnowballStemmer

    if language not in SnowballStemmer.languages or language == "porter":
        return None
    return SnowballStemmer(language).stem


class _XlsumTokenizer:
    """:func:`xlsum_tokens` in ``rouge_score``'s tokenizer interface."""

    def __init__(self, language: str | None):
        self.stem = snowball(language)

    def tokenize(self, text: str) -> list[str]:
        return xlsum_tokens(text, self.stem)


def xlsum_rouge(
    predictions: Sequence[str], references: Sequence[str], language: str | None
) -> list[dict[str, float]]:
    """ROUGE-1 and ROUGE-L F1 (in [0, 1]) of each prediction against its reference.

    Args:
        predictions: Generated summaries.
        references: The reference summaries.
        language: XL-SUM's name of the language (its config: ``english``, ``russian``), which
            picks the stemmer.
    """
    from rouge_score.rouge_scorer import RougeScorer

    scorer = RougeScorer(["rouge1", "rougeL"], tokenizer=_XlsumTokenizer(language))
    out = []
    for pred, ref in zip(predictions, references):
        s = scorer.score(ref, pred)
        out.append({"rouge1": s["rouge1"].fmeasure, "rougeL": s["rougeL"].fmeasure})
    return out


def offtarget(detected: Sequence[str], expected: str) -> float:
    """The share (%) of ``detected`` languages that are neither ``expected`` nor ``und``."""
    if not detected:
        raise ValueError("offtarget: no answer")
    off = sum(d not in (expected, "und") for d in detected)
    return round(100 * off / len(detected), 2)
