"""Text-overlap scores of SDRRL's evaluation: token F1 (MKQA), ROUGE (XL-SUM), BLEU (FLORES).

One tokenisation serves every language: NFKC, lower case, then each character of a script
written without spaces between words (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar) is a
token of its own and every other run of letters and digits is a token; punctuation is dropped.
Korean is written with spaces and is split at them. Token F1 follows SQuAD (and MKQA's own
script): English predictions and answers also lose the articles ``a``, ``an``, ``the``, and a
prediction is scored against its best-matching gold answer. ROUGE-1 and ROUGE-L F1 come from
``rouge_score`` on the same tokens, without stemming (its stemmer is English-only).
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import sacrebleu

from radis.io import RadisError

#: Scripts written without spaces between words: one token per character.
NO_SPACE = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
)
TOKEN = re.compile(rf"[{NO_SPACE}]|[^\W_{NO_SPACE}]+")
ARTICLES = {"a", "an", "the"}


def tokens(text: str, lang: str = "") -> list[str]:
    """The tokens of ``text`` (see the module docstring); English drops articles."""
    found = TOKEN.findall(unicodedata.normalize("NFKC", text).lower())
    return [t for t in found if t not in ARTICLES] if lang == "en" else found


def token_f1(prediction: str, answers: Sequence[str], lang: str = "") -> float:
    """Token-overlap F1 of ``prediction`` against its best gold answer, in [0, 1].

    Precision and recall count shared tokens with multiplicity; an answer without tokens scores
    1 against an empty prediction and 0 otherwise.
    """
    pred = tokens(prediction, lang)
    best = 0.0
    for answer in answers:
        gold = tokens(answer, lang)
        if not gold or not pred:
            best = max(best, float(gold == pred))
            continue
        shared = sum((Counter(pred) & Counter(gold)).values())
        if shared:
            precision, recall = shared / len(pred), shared / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


class _Tokenizer:
    """The :func:`tokens` rule in ``rouge_score``'s tokenizer interface."""

    def tokenize(self, text: str) -> list[str]:
        return tokens(text)


def rouge(predictions: Sequence[str], references: Sequence[str]) -> list[dict[str, float]]:
    """ROUGE-1 and ROUGE-L F1 (in [0, 1]) of each prediction against its reference."""
    from rouge_score.rouge_scorer import RougeScorer

    scorer = RougeScorer(["rouge1", "rougeL"], tokenizer=_Tokenizer())
    out = []
    for pred, ref in zip(predictions, references):
        s = scorer.score(ref, pred)
        out.append({"rouge1": s["rouge1"].fmeasure, "rougeL": s["rougeL"].fmeasure})
    return out


def bleu_metric(tokenize: str) -> sacrebleu.metrics.BLEU:
    """Corpus BLEU of sacreBLEU with tokenizer ``tokenize``, built (and downloaded) up front.

    ``flores200`` (and ``flores101``) are SentencePiece models that sacreBLEU downloads into
    ``$SACREBLEU/models`` on first use.

    Raises:
        RadisError: If the tokenizer is unknown, needs a missing package, or cannot be
            downloaded.
    """
    try:
        return sacrebleu.metrics.BLEU(tokenize=tokenize)
    except (ImportError, OSError, SystemExit) as err:  # sacreBLEU exits on an SSL error
        raise RadisError(
            f"sacreBLEU tokenizer {tokenize!r} unavailable: {_first_line(err)} (it is downloaded "
            "on first use: run once with network access, or copy it into $SACREBLEU/models)"
        ) from None
    except (KeyError, ValueError, AssertionError) as err:
        raise RadisError(
            f"sacreBLEU: unknown tokenizer {tokenize!r} ({_first_line(err)})"
        ) from None


def corpus_bleu(metric: sacrebleu.metrics.BLEU, hyps: Sequence[str], refs: Sequence[str]) -> float:
    """Corpus BLEU of ``hyps`` against one reference each, rounded to 2 decimals."""
    return round(metric.corpus_score(list(hyps), [list(refs)]).score, 2)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
