"""Formality steering (RaDis paper, Table 2): translate in a formal or an informal tone.

CoCoA-MT gives each English source a formal and an informal reference, each also with its
formality phrases marked ``[F]...[/F]``. The model translates every source twice, once per
condition, with the paper's prompt; the translation is extracted as at test time
(:func:`radis.generate.extraction.extract_translation`) and scored per condition as Table 2 reports:

- accuracy with CoCoA-MT's own phrase-level scorer: a hypothesis is labelled formal when it
  contains an annotated phrase of the formal reference and none of the informal one (a phrase
  is found when each of its space-separated tokens is a token of the hypothesis; a substring in
  a language written without spaces), informal the other way round, neutral with none, other
  with both; the accuracy of a condition is its label's share among the outputs labelled formal
  or informal (neutral and other ones left out; 0 when there is none);
- COMET-22 against the reference of the condition (params ``comet``, its own environment).
"""

import re
from dataclasses import dataclass, field, replace

import pandas as pd

from radis.core.io import RadisError
from radis.core.templates import generation_prompt, language_name
from radis.evaluate.bleu import corpus_chrf
from radis.evaluate.comet import CometConfig, comet_scores
from radis.generate.backend import Backend, GenerationConfig
from radis.generate.extraction import extract_translation

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

#: A formality phrase of an annotated CoCoA-MT reference.
PHRASE = re.compile(r"\[F\](.*?)\[/F\]")

#: Target languages written without spaces between words: phrases are matched as substrings (the
#: scorer's ``--non_whitespace_delimited``, for Japanese).
NO_SPACES = {"ja", "zh"}


@dataclass
class FormalityConfig:
    """Params ``formality``.

    Attributes:
        generation: Decoding (greedy in the paper).
        comet: Also score COMET-22 per condition (params ``comet``, the COMET environment).
    """

    generation: GenerationConfig = field(default_factory=GenerationConfig)
    comet: bool = True


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
    backend: Backend, rows: pd.DataFrame, cfg: FormalityConfig, seed: int
) -> dict[str, pd.DataFrame]:
    """Translate every row under both conditions, in one generation call (sampling seed ``seed``).

    Returns:
        Condition → a table in the ``formality_prediction`` schema, in the order of ``rows``
        (``comet`` NaN until :func:`add_comet`).
    """
    users = {
        c: [
            formality_prompt(c, s, t, x)
            for s, t, x in zip(rows.src_lang, rows.tgt_lang, rows.source)
        ]
        for c in CONDITIONS
    }
    prompts = [generation_prompt(backend.tokenizer, u) for c in CONDITIONS for u in users[c]]
    outs = backend.generate(prompts, replace(cfg.generation, seed=seed))
    n = len(rows)
    return {
        c: predictions(rows, c, users[c], outs[k * n : (k + 1) * n])
        for k, c in enumerate(CONDITIONS)
    }


def predictions(rows: pd.DataFrame, condition: str, users: list[str], outs) -> pd.DataFrame:
    """One condition's prediction table: extracted translations and their formality labels."""
    hyps = [extract_translation(o.text, t) for o, t in zip(outs, rows.tgt_lang)]
    verdicts = [
        phrase_label(h, f, i, t)
        for h, f, i, t in zip(hyps, rows.formal_annotated, rows.informal_annotated, rows.tgt_lang)
    ]
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
            "reference": rows[condition].tolist(),
            "opposite": rows[OPPOSITE[condition]].tolist(),
            "matched_formal": [v[1] for v in verdicts],
            "matched_informal": [v[2] for v in verdicts],
            "label": [v[0] for v in verdicts],
            "correct": [v[0] == condition for v in verdicts],
            "comet": float("nan"),
            "finish_reason": [o.finish_reason for o in outs],
        }
    )


def matched_phrases(hypothesis: str, annotated: str, spaces: bool = True) -> list[str]:
    """The ``[F]...[/F]`` phrases of ``annotated`` found in ``hypothesis``.

    The hypothesis is taken as one line (line breaks become spaces, ends stripped), as in the
    scorer's hypothesis file. With ``spaces``, a phrase is found when each of its tokens (split
    on single spaces) is a token of the hypothesis, in any order; without, when it is a
    substring.
    """
    line = hypothesis.replace("\r", " ").replace("\n", " ").strip()
    tokens = set(line.split(" "))
    return [
        ph
        for ph in PHRASE.findall(annotated)
        if (set(ph.split(" ")) <= tokens if spaces else ph in line)
    ]


def phrase_label(
    hypothesis: str, formal_annotated: str, informal_annotated: str, tgt_lang: str = "de"
) -> tuple[str, int, int]:
    """CoCoA-MT's label of one hypothesis, and the formal and informal phrases it matched.

    Returns:
        (``formal``, ``informal``, ``neutral`` or ``other``; formal count; informal count).
    """
    spaces = tgt_lang not in NO_SPACES
    formal = len(matched_phrases(hypothesis, formal_annotated, spaces))
    informal = len(matched_phrases(hypothesis, informal_annotated, spaces))
    if formal and informal:
        return "other", formal, informal
    if formal or informal:
        return ("formal" if formal else "informal"), formal, informal
    return "neutral", formal, informal


def add_comet(preds: dict[str, pd.DataFrame], cfg: CometConfig) -> dict[str, pd.DataFrame]:
    """Each condition's table with its ``comet`` column: COMET against its own reference.

    Both conditions go to COMET in one call (one model load).
    """
    table = pd.concat(list(preds.values()), ignore_index=True)
    scores = comet_scores(
        table.source.tolist(), table.hypothesis.tolist(), cfg, table.reference.tolist()
    ).segments
    out, start = {}, 0
    for condition, rows in preds.items():
        out[condition] = rows.assign(comet=scores[start : start + len(rows)])
        start += len(rows)
    return out


def matched_accuracy(labels: pd.Series, condition: str) -> float:
    """The scorer's accuracy (%): ``condition``'s share among formal/informal labels; 0 if none."""
    matched = labels.isin(CONDITIONS).sum()
    return 100 * float((labels == condition).sum()) / matched if matched else 0.0


def formality_scores(preds: dict[str, pd.DataFrame], comet: bool) -> dict[str, float]:
    """Flat scores per condition: phrase-level accuracy (%), COMET (× 100) and corpus chrF.

    ``formality.<c>.accuracy`` is Table 2's Acc, ``formality.<c>.comet`` its COMET (with
    ``comet``); ``formality.<c>.matched`` counts the outputs labelled formal or informal (the
    accuracy's denominator) of ``formality.<c>.n``; ``formality.accuracy`` is the mean of the
    conditions' accuracies.
    """
    out: dict[str, float] = {}
    for condition, rows in preds.items():
        key = f"formality.{condition}"
        out[f"{key}.accuracy"] = round(matched_accuracy(rows.label, condition), 2)
        if comet:
            out[f"{key}.comet"] = round(100 * float(rows.comet.mean()), 2)
        out[f"{key}.chrf"] = corpus_chrf(rows.hypothesis.tolist(), rows.reference.tolist())
        out[f"{key}.matched"] = int(rows.label.isin(CONDITIONS).sum())
        out[f"{key}.n"] = len(rows)
    out["formality.accuracy"] = round(
        sum(out[f"formality.{c}.accuracy"] for c in preds) / len(preds), 2
    )
    return out
