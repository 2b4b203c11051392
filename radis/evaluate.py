"""Evaluate a model: translation (BLEU, chrF) and rule-checked general abilities."""

import re
from dataclasses import dataclass, field

import pandas as pd

from radis.general import check
from radis.generate import Backend, GenerationConfig
from radis.metrics import translation_scores
from radis.templates import generation_prompt, instruction

LABEL = re.compile(r"^\s*(?:\w+\s+)?translation\s*:\s*", re.I)
QUOTES = "\"'“”„«»「」"


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


def extract_translation(output: str) -> str:
    """The translation inside a model output that may carry a rationale after it.

    Rule: take the first non-empty line (a rationale starts after a line break, as the toy
    backbone's and chat models' explanations do); drop a leading label such as
    ``Translation:`` or ``German translation:``; strip whitespace and matching surrounding quotes.
    """
    line = next((ln for ln in output.splitlines() if ln.strip()), "")
    line = LABEL.sub("", line).strip()
    if len(line) >= 2 and line[0] in QUOTES and line[-1] in QUOTES:
        line = line[1:-1].strip()
    return line


def translate(backend: Backend, test: pd.DataFrame, cfg: EvaluateConfig) -> pd.DataFrame:
    """Translate every test row; one prediction row each (score is filled per direction)."""
    users = [
        instruction(cfg.template, s, t, x)
        for s, t, x in zip(test.src_lang, test.tgt_lang, test.source)
    ]
    outs = backend.generate(
        [generation_prompt(backend.tokenizer, u) for u in users], cfg.generation
    )
    return pd.DataFrame(
        {
            "id": test.id,
            "task": "translation",
            "subtask": test.src_lang + "-" + test.tgt_lang,
            "prompt": users,
            "output": [o.text for o in outs],
            "hypothesis": [extract_translation(o.text) for o in outs],
            "reference": test.reference,
            "score": float("nan"),
            "finish_reason": [o.finish_reason for o in outs],
        }
    )


def answer_general(backend: Backend, items: pd.DataFrame, cfg: EvaluateConfig) -> pd.DataFrame:
    """Answer every general item and score it with its checker."""
    outs = backend.generate(
        [generation_prompt(backend.tokenizer, p) for p in items.prompt], cfg.generation
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

    Per direction BLEU/chrF, their averages over X→EN and EN→X (the paper's Table 1 groups), and
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
    general = predictions[predictions.task != "translation"]
    for task, rows in general.groupby("task", sort=True):
        out[f"general.{task}"] = round(100 * rows.score.mean(), 2)
        for sub, sub_rows in rows.groupby("subtask", sort=True):
            out[f"general.{task}.{sub}"] = round(100 * sub_rows.score.mean(), 2)
    return out
