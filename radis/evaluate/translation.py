"""Evaluate a model: translation (BLEU, chrF) and rule-checked general abilities."""

from dataclasses import dataclass, field, replace

import pandas as pd

from radis.core.templates import generation_prompt, instruction
from radis.evaluate.general import check
from radis.evaluate.metrics import translation_scores
from radis.generate.backend import Backend, GenerationConfig
from radis.generate.extraction import extract_translation, first_line


@dataclass
class EvaluateConfig:
    """Params ``evaluate``.

    Attributes:
        template: Instruction template (1-5) used for every test sentence.
        generation: Decoding; the paper evaluates greedily.
    """

    template: int = 2
    generation: GenerationConfig = field(default_factory=GenerationConfig)

    def __post_init__(self):
        if not 1 <= self.template <= 5:
            raise ValueError(f"template: must be one of 1-5, got {self.template}")


def translate(backend: Backend, test: pd.DataFrame, cfg: EvaluateConfig, seed: int) -> pd.DataFrame:
    """Translate every test row, sampling seed ``seed``; one prediction row each.

    The score is filled per direction (:func:`scores`).
    """
    users = [
        instruction(cfg.template, s, t, x)
        for s, t, x in zip(test.src_lang, test.tgt_lang, test.source)
    ]
    outs = backend.generate(
        [generation_prompt(backend.tokenizer, u) for u in users],
        replace(cfg.generation, seed=seed),
    )
    return pd.DataFrame(
        {
            "id": test.id,
            "task": "translation",
            "subtask": test.src_lang + "-" + test.tgt_lang,
            "prompt": users,
            "output": [o.text for o in outs],
            "hypothesis": [extract_translation(o.text, t) for o, t in zip(outs, test.tgt_lang)],
            "reference": test.reference,
            "score": float("nan"),
            "finish_reason": [o.finish_reason for o in outs],
        }
    )


def answer_general(
    backend: Backend, items: pd.DataFrame, cfg: EvaluateConfig, seed: int
) -> pd.DataFrame:
    """Answer every general item (sampling seed ``seed``) and score it with its checker."""
    outs = backend.generate(
        [generation_prompt(backend.tokenizer, p) for p in items.prompt],
        replace(cfg.generation, seed=seed),
    )
    texts = [o.text for o in outs]
    return pd.DataFrame(
        {
            "id": items.id,
            "task": items.task,
            "subtask": items.subtask,
            "prompt": items.prompt,
            "output": texts,
            "hypothesis": texts,
            "reference": items.answer,
            "score": [check(c, t, a) for c, t, a in zip(items.checker, texts, items.answer)],
            "finish_reason": [o.finish_reason for o in outs],
        }
    )


def scores(predictions: pd.DataFrame) -> dict[str, float]:
    """Flat scores of a model's predictions.

    Per direction BLEU/chrF, their averages over X→EN and EN→X (the paper's Table 1 groups), how
    many translation outputs needed more than their first line (``mt.extracted.nontrivial``, and
    its share in % ``mt.extracted.nontrivial_pct``: see :mod:`radis.generate.extraction`), and
    accuracy (%) per general task and sub-task.
    """
    out: dict[str, float] = {}
    mt = predictions[predictions.task == "translation"]
    groups: dict[str, list[dict]] = {"xx-en": [], "en-xx": []}
    for direction, rows in mt.groupby("subtask", sort=True):
        tgt = direction.split("-")[1]
        s = translation_scores(rows.hypothesis.tolist(), rows.reference.tolist(), tgt)
        out |= {f"mt.{direction}.{k}": v for k, v in s.items()}
        groups["xx-en" if tgt == "en" else "en-xx"].append(s)
    for group, items in groups.items():
        for metric in ("bleu", "chrf"):
            if items:
                out[f"mt.{group}.{metric}"] = round(sum(s[metric] for s in items) / len(items), 2)
    if not mt.empty:
        out["mt.chrf"] = round(
            sum(out[f"mt.{g}.chrf"] for g in groups if groups[g])
            / sum(bool(v) for v in groups.values()),
            2,
        )
        out |= nontrivial(mt.output, mt.hypothesis)
    general = predictions[predictions.task != "translation"]
    for task, rows in general.groupby("task", sort=True):
        out[f"general.{task}"] = round(100 * rows.score.mean(), 2)
        for sub, sub_rows in rows.groupby("subtask", sort=True):
            out[f"general.{task}.{sub}"] = round(100 * sub_rows.score.mean(), 2)
    return out


def nontrivial(outputs: pd.Series, hypotheses: pd.Series) -> dict[str, float]:
    """How many hypotheses are not their output's first non-empty line, and their share (%)."""
    n = sum(h != first_line(o) for o, h in zip(outputs, hypotheses))
    return {
        "mt.extracted.nontrivial": n,
        "mt.extracted.nontrivial_pct": round(100 * n / len(outputs), 2),
    }
