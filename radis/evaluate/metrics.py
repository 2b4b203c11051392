"""Forgetting rate and translation scores."""

from collections.abc import Mapping, Sequence

from radis.core.io import RadisError
from radis.evaluate.bleu import bleu_metric, bleu_tokenizer, corpus_bleu, corpus_chrf


def forgetting_rate(base: Mapping[str, float], tuned: Mapping[str, float]) -> float:
    """The paper's forgetting rate, in percent.

    FR = mean over the benchmarks both mappings share of (base - tuned) / base × 100. A benchmark
    that improved contributes a negative term (no clipping). A benchmark whose base score is 0 has
    no relative drop and is left out.

    Raises:
        RadisError: If the mappings share no benchmark with a non-zero base score.
    """
    shared = sorted(k for k in set(base) & set(tuned))
    if not shared:
        raise RadisError(
            f"forgetting_rate: no shared benchmark between {sorted(base)} and {sorted(tuned)}"
        )
    usable = [k for k in shared if base[k] != 0]
    if not usable:
        raise RadisError(f"forgetting_rate: base score is 0 for every shared benchmark {shared}")
    return sum((base[k] - tuned[k]) / base[k] * 100 for k in usable) / len(usable)


def preservation(base: Mapping[str, float], tuned: Mapping[str, float]) -> float:
    """General-ability preservation: 100 - forgetting rate."""
    return 100.0 - forgetting_rate(base, tuned)


def translation_scores(hyps: Sequence[str], refs: Sequence[str], tgt_lang: str) -> dict[str, float]:
    """Corpus BLEU (``tgt_lang``'s tokenizer) and chrF of ``hyps`` against one reference each."""
    bleu = corpus_bleu(bleu_metric(bleu_tokenizer(tgt_lang)), hyps, refs)
    return {"bleu": bleu, "chrf": corpus_chrf(hyps, refs)}


def general_benchmarks(flat: Mapping[str, float]) -> dict[str, float]:
    """The per-task general scores (``general.<task>``, not sub-tasks): FR's benchmarks."""
    return {k: v for k, v in flat.items() if k.startswith("general.") and k.count(".") == 1}
