"""The declared schemas of every table passed between stages."""

import pyarrow as pa

from radis.core.io import Schema

STR, INT, FLOAT = pa.string(), pa.int64(), pa.float64()

#: Parallel data, one row per direction: ``split`` is train, valid or test.
TRANSLATION = Schema(
    "translation",
    1,
    {"id": STR, "split": STR, "src_lang": STR, "tgt_lang": STR, "source": STR, "reference": STR},
)

#: General-ability evaluation items; ``checker`` names the rule in :mod:`radis.evaluate.general`.
GENERAL = Schema(
    "general",
    1,
    {"id": STR, "task": STR, "subtask": STR, "prompt": STR, "answer": STR, "checker": STR},
)

#: Single-turn chat data (instruction data, and every method's training set).
SFT = Schema("sft", 1, {"id": STR, "prompt": STR, "completion": STR})

#: A method's training set: SFT rows plus a reply suffix read but masked from the loss, and the
#: row's loss group (each group weighted by its size, SDRRL's Eq. 6; ``""`` everywhere: one group).
TRAIN_SET = Schema(
    "train_set",
    2,
    {"id": STR, "prompt": STR, "completion": STR, "masked_suffix": STR, "group": STR},
)

#: Rationales written by a rule (the toy world's explanations), keyed by training row id.
GLOSS = Schema("gloss", 1, {"id": STR, "rationale": STR})

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

#: MT-Bench questions (FastChat's question.jsonl: 80 questions of two turns each).
MT_BENCH = Schema(
    "mt_bench", 1, {"question_id": INT, "category": STR, "turn_1": STR, "turn_2": STR}
)

#: Instruction-following answers: one row per benchmark item and turn, with the exact prompt.
INSTRUCT_ANSWER = Schema(
    "instruct_answer",
    1,
    {
        "benchmark": STR,
        "id": STR,
        "turn": INT,
        "prompt": STR,
        "output": STR,
        "finish_reason": STR,
    },
)

#: Formality-steered translations of one condition (formal or informal): ``reference`` is the
#: matching reference, ``opposite`` the other. CoCoA-MT's phrase-level scorer: ``matched_formal``
#: and ``matched_informal`` count the annotated phrases of each reference found in the
#: hypothesis, ``label`` is formal, informal, neutral (none) or other (both), ``correct`` is
#: ``label == condition``; ``comet`` is the segment's COMET against ``reference`` (NaN if off).
FORMALITY_PREDICTION = Schema(
    "formality_prediction",
    2,
    {
        "id": STR,
        "condition": STR,
        "src_lang": STR,
        "tgt_lang": STR,
        "prompt": STR,
        "output": STR,
        "source": STR,
        "hypothesis": STR,
        "reference": STR,
        "opposite": STR,
        "matched_formal": INT,
        "matched_informal": INT,
        "label": STR,
        "correct": pa.bool_(),
        "comet": FLOAT,
        "finish_reason": STR,
    },
)

#: GSM8K test questions (hub openai/gsm8k, config main): ``answer`` ends with ``#### N``.
GSM8K = Schema("gsm8k", 1, {"question": STR, "answer": STR})

#: AdvBench harmful requests (hub walledai/AdvBench): ``target`` is the attack's affirmative start.
ADVBENCH = Schema("advbench", 1, {"prompt": STR, "target": STR})

#: GSM8K through lm-eval, one row per question: the exact model input (few-shot turns included),
#: the output, the number each of lm-eval's filters extracted from it (strict-match: after
#: "#### "; flexible-extract: the last number) and 1.0/0.0 for its exact match.
GSM8K_PREDICTION = Schema(
    "gsm8k_prediction",
    2,
    {
        "doc_id": INT,
        "question": STR,
        "answer": STR,
        "target": STR,
        "prompt": STR,
        "output": STR,
        "extracted": STR,
        "correct": FLOAT,
        "flexible_extracted": STR,
        "flexible_correct": FLOAT,
    },
)

#: AdvBench answers with the keyword-refusal check and the safety judge's raw output and verdict
#: (``safe``, ``unsafe`` or ``unparsed``; ``categories`` like ``S1,S10`` for unsafe answers).
SAFETY_PREDICTION = Schema(
    "safety_prediction",
    1,
    {
        "id": STR,
        "prompt": STR,
        "output": STR,
        "finish_reason": STR,
        "refused": pa.bool_(),
        "judge_output": STR,
        "verdict": STR,
        "categories": STR,
    },
)

#: SDRRL's transfer-set sources: the sampled English questions with their references (D) and the
#: backbone's own answers (G); ``prompt`` is the rendered chat prompt, ``answer`` the reply.
SDRRL_ANSWERS = Schema(
    "sdrrl_answers",
    1,
    {
        "id": STR,
        "question": STR,
        "reference": STR,
        "prompt": STR,
        "answer": STR,
        "finish_reason": STR,
    },
)

#: SDRRL: machine translations into ``lang`` of each question, reference and self answer
#: (``field``); after the filter stage only the kept rows, with their QE score and detected
#: language.
SDRRL_MT = Schema(
    "sdrrl_mt",
    1,
    {"id": STR, "lang": STR, "field": STR, "source": STR, "translation": STR, "finish_reason": STR},
)
SDRRL_KEPT = Schema("sdrrl_kept", 1, {**SDRRL_MT.fields, "qe": FLOAT, "detected": STR})

#: SDRRL: each question code-switched: ``direction`` en-X (English question, some words in X) or
#: X-en (its kept translation, some words in English); ``covered``/``switched`` count tokens.
CODESWITCH = Schema(
    "codeswitch",
    1,
    {"id": STR, "direction": STR, "prompt": STR, "covered": INT, "switched": INT},
)

#: AlpacaEval prompts, with the reference output, the model that wrote it and the sub-dataset.
ALPACA_EVAL = Schema(
    "alpaca_eval",
    1,
    {"id": STR, "instruction": STR, "output": STR, "generator": STR, "dataset": STR},
)

#: CoCoA-MT formality test: one source with its formal and informal reference translations, and
#: the same references with their formality phrases marked ``[F]...[/F]`` (``*_annotated``).
COCOA = Schema(
    "cocoa",
    2,
    {
        "id": STR,
        "domain": STR,
        "src_lang": STR,
        "tgt_lang": STR,
        "source": STR,
        "formal": STR,
        "informal": STR,
        "formal_annotated": STR,
        "informal_annotated": STR,
    },
)

#: COMET segment scores of a model's translation predictions (``direction`` is src-tgt).
COMET = Schema(
    "comet",
    1,
    {
        "id": STR,
        "direction": STR,
        "source": STR,
        "hypothesis": STR,
        "reference": STR,
        "comet": FLOAT,
    },
)

#: SDRRL's multilingual evaluation, one row per item: ``benchmark`` (belebele, flores, xlsum,
#: mkqa, or general.<task> in the toy world), ``subset`` (a language, or a FLORES direction
#: src-tgt), the item's score in [0, 1] (NaN where only a corpus score exists: FLORES BLEU).
MULTILINGUAL_PREDICTION = Schema(
    "multilingual_prediction",
    1,
    {
        "benchmark": STR,
        "subset": STR,
        "id": STR,
        "prompt": STR,
        "output": STR,
        "hypothesis": STR,
        "reference": STR,
        "score": FLOAT,
    },
)

#: Gradient similarity of one method (stage ``gradcos``): per checkpoint (``backbone``,
#: ``epoch<k>``, or ``final``), pair of losses (``mt_vs_reg``, ``general_vs_train``) and
#: transformer layer, the cosine of the two losses' LoRA gradients (NaN: one of them is zero).
GRADCOS = Schema("gradcos", 1, {"checkpoint": STR, "pair": STR, "layer": INT, "cosine": FLOAT})
