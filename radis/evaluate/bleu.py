"""Every sacreBLEU score: corpus BLEU (with a per-language tokenizer) and corpus chrF.

RaDis's translation scores (:func:`radis.evaluate.metrics.translation_scores`), the formality
suite's chrF and SDRRL's FLORES BLEU all come from here. MKQA's and XL-SUM's scorers are in
:mod:`radis.evaluate.multilingual_metrics`.
"""

from collections.abc import Sequence

import sacrebleu

from radis.core.io import RadisError


def bleu_tokenizer(tgt_lang: str) -> str:
    """The sacreBLEU tokenizer of a target language: ``zh`` for Chinese, ``13a`` otherwise."""
    return "zh" if tgt_lang == "zh" else "13a"


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


def corpus_chrf(hyps: Sequence[str], refs: Sequence[str]) -> float:
    """Corpus chrF (sacreBLEU's defaults) of ``hyps`` against one reference each, rounded to 2."""
    return round(sacrebleu.metrics.CHRF().corpus_score(list(hyps), [list(refs)]).score, 2)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
