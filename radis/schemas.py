"""The declared schemas of every table passed between stages."""

import pyarrow as pa

from radis.io import Schema

STR, INT, FLOAT = pa.string(), pa.int64(), pa.float64()

#: Parallel data, one row per direction: ``split`` is train, valid or test.
TRANSLATION = Schema(
    "translation",
    1,
    {"id": STR, "split": STR, "src_lang": STR, "tgt_lang": STR, "source": STR, "reference": STR},
)

#: General-ability evaluation items; ``checker`` names the rule in :mod:`radis.general`.
GENERAL = Schema(
    "general",
    1,
    {"id": STR, "task": STR, "subtask": STR, "prompt": STR, "answer": STR, "checker": STR},
)

#: Single-turn chat data (instruction data, and every method's training set).
SFT = Schema("sft", 1, {"id": STR, "prompt": STR, "completion": STR})

#: RaDis rationales: the exact rendered prompt and the backbone's continuation of the reference.
RATIONALE = Schema(
    "rationale",
    1,
    {
        "id": STR,
        "src_lang": STR,
        "tgt_lang": STR,
        "template": INT,
        "instruction": STR,
        "reference": STR,
        "prompt": STR,
        "rationale": STR,
        "finish_reason": STR,
        "prompt_tokens": INT,
        "rationale_tokens": INT,
    },
)

#: The backbone's own translation (Seq-KD) or rewrite (SDFT) of each training row.
SELFGEN = Schema(
    "selfgen",
    1,
    {"id": STR, "prompt": STR, "output": STR, "response": STR, "finish_reason": STR},
)

#: Model outputs on the evaluation sets, with per-item score where a rule applies.
PREDICTION = Schema(
    "prediction",
    1,
    {
        "id": STR,
        "task": STR,
        "subtask": STR,
        "prompt": STR,
        "output": STR,
        "hypothesis": STR,
        "reference": STR,
        "score": FLOAT,
        "finish_reason": STR,
    },
)
