"""Formality steering (RaDis paper, Table 2): translate in a formal or an informal tone.

CoCoA-MT gives each English source a formal and an informal reference. The model translates
every source twice, once per condition, with the paper's prompt; the translation is extracted as
at test time (:func:`radis.evaluate.extract_translation`) and scored against the reference of its
condition. COMET runs in its own stage on the per-condition prediction tables this writes.

Formality accuracy rule: a translation is correct when its sentence-level chrF to the reference
of its condition is strictly higher than to the reference of the other condition; ties (for
example an empty output, or a source whose two references are equal) count as wrong.
"""

from dataclasses import dataclass, field

import pandas as pd
import sacrebleu
from sacrebleu.metrics import CHRF

from radis.evaluate import extract_translation
from radis.generate import Backend, GenerationConfig
from radis.io import RadisError
from radis.templates import generation_prompt, language_name

#: The paper's two prompts, verbatim (its grammar included) with the language names as slots:
#: English → German renders them exactly.
TEMPLATES = {
    "formal": "Please translate the following sentence from {lang1} to {lang2} in a formal tone: "
    "{sentence}",
    "informal": "Please translate the following sentence from {lang1} to {lang2} in a informal "
    "tone: {sentence}",
}
CONDITIONS = tuple(TEMPLATES)
OPPOSITE = {"formal": "informal", "informal": "formal"}


@dataclass
class FormalityConfig:
    """Params ``formality``.

    Attributes:
        generation: Decoding (greedy in the paper).
    """

    generation: GenerationConfig = field(default_factory=GenerationConfig)


def formality_prompt(condition: str, src_lang: str, tgt_lang: str, sentence: str) -> str:
    """The user message asking for a ``condition`` (formal/informal) translation."""
    if condition not in TEMPLATES:
        raise RadisError(f"formality: unknown condition {condition!r}; known: {list(CONDITIONS)}")
    return TEMPLATES[condition].format(
        lang1=language_name(src_lang, "src_lang"),
        lang2=language_name(tgt_lang, "tgt_lang"),
        sentence=sentence,
    )


def translate_formality(
    backend: Backend, rows: pd.DataFrame, cfg: FormalityConfig
) -> dict[str, pd.DataFrame]:
    """Translate every row under both conditions, in one generation call.

    Returns:
        Condition → a table in the ``formality_prediction`` schema, in the order of ``rows``.
    """
    users = {
        c: [
            formality_prompt(c, s, t, x)
            for s, t, x in zip(rows.src_lang, rows.tgt_lang, rows.source)
        ]
        for c in CONDITIONS
    }
    prompts = [generation_prompt(backend.tokenizer, u) for c in CONDITIONS for u in users[c]]
    outs = backend.generate(prompts, cfg.generation)
    n = len(rows)
    return {
        c: predictions(rows, c, users[c], outs[k * n : (k + 1) * n])
        for k, c in enumerate(CONDITIONS)
    }


def predictions(rows: pd.DataFrame, condition: str, users: list[str], outs) -> pd.DataFrame:
    """One condition's prediction table: extracted translations and their formality verdicts."""
    hyps = [extract_translation(o.text) for o in outs]
    refs, opposite = rows[condition].tolist(), rows[OPPOSITE[condition]].tolist()
    pairs = [closeness(h, r, o) for h, r, o in zip(hyps, refs, opposite)]
    return pd.DataFrame(
        {
            "id": rows.id.tolist(),
            "condition": condition,
            "src_lang": rows.src_lang.tolist(),
            "tgt_lang": rows.tgt_lang.tolist(),
            "prompt": users,
            "output": [o.text for o in outs],
            "source": rows.source.tolist(),
            "hypothesis": hyps,
            "reference": refs,
            "opposite": opposite,
            "chrf_reference": [a for a, _ in pairs],
            "chrf_opposite": [b for _, b in pairs],
            "correct": [_closer(a, b) for a, b in pairs],
            "finish_reason": [o.finish_reason for o in outs],
        }
    )


def closeness(hypothesis: str, reference: str, opposite: str) -> tuple[float, float]:
    """Sentence-level chrF of ``hypothesis`` to its own reference and to the opposite one."""
    chrf = CHRF()
    return (
        chrf.sentence_score(hypothesis, [reference]).score,
        chrf.sentence_score(hypothesis, [opposite]).score,
    )


def _closer(to_reference: float, to_opposite: float) -> bool:
    return to_reference > to_opposite


def formality_correct(hypothesis: str, reference: str, opposite: str) -> bool:
    """The accuracy rule for one output: closer (sentence chrF) to its own reference; ties wrong."""
    return _closer(*closeness(hypothesis, reference, opposite))


def formality_scores(preds: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Flat scores: per condition, corpus chrF against its reference and accuracy (%).

    ``formality.accuracy`` is the mean of the conditions' accuracies.
    """
    out: dict[str, float] = {}
    for condition, rows in preds.items():
        chrf = sacrebleu.corpus_chrf(rows.hypothesis.tolist(), [rows.reference.tolist()])
        out[f"formality.{condition}.chrf"] = round(chrf.score, 2)
        out[f"formality.{condition}.accuracy"] = round(100 * float(rows.correct.mean()), 2)
    out["formality.accuracy"] = round(
        sum(out[f"formality.{c}.accuracy"] for c in preds) / len(preds), 2
    )
    return out
