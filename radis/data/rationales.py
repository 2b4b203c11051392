"""RaDis rationale generation: the backbone continues its own reply after the reference."""

from dataclasses import dataclass, field, replace

import pandas as pd

from radis.core.io import RadisError
from radis.core.templates import continuation_prompt, instruction, pick_template
from radis.generate.backend import Backend, Completion, GenerationConfig


@dataclass
class RationaleConfig:
    """Params ``rationales``.

    Attributes:
        models: Rationale sets: name → the model that writes them (``backbone``: the backbone
            itself, RaDis proper; a folder or hub id: another model, paper Table 3;
            ``toy-gloss``: the toy world's rule-written explanations, a non-self control).
        generation: Decoding of the continuation (the paper leaves it open).
    """

    models: dict = field(default_factory=lambda: {"self": "backbone"})
    generation: GenerationConfig = field(default_factory=GenerationConfig)

    def model_for(self, name: str, backbone: str) -> str:
        """The model that writes rationale set ``name`` (``backbone`` resolved)."""
        if name not in self.models:
            raise RadisError(f"params.yaml: rationales.models: no entry {name!r}")
        return backbone if self.models[name] == "backbone" else self.models[name]


def with_instructions(rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Add the seeded ``template`` id and the rendered user ``instruction`` to translation rows."""
    rows = rows.copy()
    rows["template"] = [pick_template(seed, i) for i in rows.id]
    rows["instruction"] = [
        instruction(t, s, g, x)
        for t, s, g, x in zip(rows.template, rows.src_lang, rows.tgt_lang, rows.source)
    ]
    return rows


def rationale_table(rows: pd.DataFrame, prompts: list[str], completions: list) -> pd.DataFrame:
    """Rows with their rendered ``prompts`` and ``completions``: the ``rationale`` schema."""
    return pd.DataFrame(
        {
            "id": rows.id,
            "src_lang": rows.src_lang,
            "tgt_lang": rows.tgt_lang,
            "template": rows.template.astype("int64"),
            "instruction": rows.instruction,
            "reference": rows.reference,
            "prompt": prompts,
            "rationale": [c.text for c in completions],
            "finish_reason": [c.finish_reason for c in completions],
            "prompt_tokens": [c.prompt_tokens for c in completions],
            "rationale_tokens": [c.completion_tokens for c in completions],
        }
    ).reset_index(drop=True)


def generate_rationales(
    rows: pd.DataFrame, backend: Backend, cfg: RationaleConfig, seed: int
) -> pd.DataFrame:
    """Continue ``instruction → reference`` with the backend; one rationale per row.

    Returns:
        A table in the ``rationale`` schema, in the order of ``rows``.
    """
    rows = with_instructions(rows, seed)
    prompts = [
        continuation_prompt(backend.tokenizer, u, y)
        for u, y in zip(rows.instruction, rows.reference)
    ]
    outs = backend.generate(prompts, replace(cfg.generation, seed=seed))
    return rationale_table(rows, prompts, outs)


def rule_rationales(
    rows: pd.DataFrame, glosses: pd.DataFrame, tokenizer, seed: int
) -> pd.DataFrame:
    """Rationales written by a rule instead of a model, in the ``rationale`` schema.

    Each row's rationale is its gloss, appended to the reference exactly like a generated one.

    Raises:
        RadisError: If a training row has no gloss.
    """
    rows = with_instructions(rows, seed).merge(glosses, on="id", how="left")
    if rows.rationale.isna().any():
        raise RadisError(f"glosses table: no gloss for {int(rows.rationale.isna().sum())} row(s)")
    prompts = [
        continuation_prompt(tokenizer, u, y) for u, y in zip(rows.instruction, rows.reference)
    ]

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    completions = [
        Completion(r, "stop", count(p), count(r)) for p, r in zip(prompts, rows.rationale)
    ]
    return rationale_table(rows, prompts, completions)


def summary(table: pd.DataFrame) -> dict[str, float]:
    """Share of empty and truncated rationales and their mean length, for the metrics."""
    return {
        "rows": len(table),
        "empty_share": round(float((table.rationale.str.strip() == "").mean()), 4),
        "truncated_share": round(float((table.finish_reason == "length").mean()), 4),
        "mean_rationale_tokens": round(float(table.rationale_tokens.mean()), 2),
    }
