"""Instruction-following answers in the files the official judges read.

AlpacaEval's ``alpaca_eval --model_outputs`` reads a JSON list of ``{instruction, output,
generator}`` records (``dataset`` optional); FastChat's MT-Bench judge (``gen_judgment``) reads
``model_answer/<model_id>.jsonl``, one line per question as its ``gen_model_answer.py`` writes it:
``{question_id, answer_id, model_id, choices: [{index: 0, turns: [a1, a2]}], tstamp}``. The
second MT-Bench turn is rendered with the tokenizer's chat template over the whole conversation,
the model's first answer included.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radis.core.io import RadisError, atomic_path
from radis.core.templates import generation_prompt
from radis.generate.backend import Backend, Completion, GenerationConfig

#: FastChat's per-category MT-Bench sampling temperatures (``llm_judge/common.py``); 0 = greedy.
MT_BENCH_TEMPERATURE = {
    "writing": 0.7,
    "roleplay": 0.7,
    "extraction": 0.0,
    "math": 0.0,
    "coding": 0.0,
    "reasoning": 0.0,
    "stem": 0.1,
    "humanities": 0.1,
}
#: FastChat's temperature for a category missing from its table.
DEFAULT_TEMPERATURE = 0.7

ALPACA_FIELDS = ("instruction", "output", "generator")
MT_BENCH_FIELDS = ("question_id", "answer_id", "model_id", "choices", "tstamp")


@dataclass
class InstructEvalConfig:
    """Params ``instruct``.

    Attributes:
        generation: Decoding of every answer (greedy in the paper). With ``category_temperature``
            only ``max_new_tokens``, ``top_p`` and ``batch_tokens`` apply to MT-Bench.
        category_temperature: MT-Bench decoding as FastChat's ``gen_model_answer.py``: sampled at
            the question category's temperature, greedy where it is 0. False: ``generation``.
    """

    generation: GenerationConfig = field(default_factory=GenerationConfig)
    category_temperature: bool = True


def conversation_prompt(tokenizer, turns: list[str], answers: list[str]) -> str:
    """Render user ``turns`` interleaved with the model's earlier ``answers``, then a fresh reply.

    ``answers`` holds one answer fewer than ``turns``: the prompt asks for the answer to the last
    turn.
    """
    messages = []
    for user, reply in zip(turns, [*answers, None]):
        messages.append({"role": "user", "content": user})
        if reply is not None:
            messages.append({"role": "assistant", "content": reply})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def answer_alpaca_eval(backend: Backend, prompts: pd.DataFrame, cfg: GenerationConfig, seed: int):
    """Answer every AlpacaEval instruction (sampling seed ``seed``).

    Returns:
        A table in the ``instruct_answer`` schema.
    """
    rendered = [generation_prompt(backend.tokenizer, i) for i in prompts.instruction]
    outs = backend.generate(rendered, dataclasses.replace(cfg, seed=seed))
    return _answers("alpaca_eval", prompts.id.tolist(), 1, rendered, outs)


def mt_bench_decoding(category: str, cfg: InstructEvalConfig) -> GenerationConfig:
    """The decoding of an MT-Bench question of ``category`` (see ``category_temperature``)."""
    if not cfg.category_temperature:
        return cfg.generation
    temperature = MT_BENCH_TEMPERATURE.get(category, DEFAULT_TEMPERATURE)
    if temperature == 0:
        return dataclasses.replace(cfg.generation, do_sample=False)
    return dataclasses.replace(cfg.generation, do_sample=True, temperature=temperature)


def answer_mt_bench(backend: Backend, questions: pd.DataFrame, cfg: InstructEvalConfig, seed: int):
    """Answer both turns of every MT-Bench question; the second prompt holds the first answer.

    Every decoding (:func:`mt_bench_decoding`) samples with seed ``seed``.

    Returns:
        A table in the ``instruct_answer`` schema: turn 1 rows, then turn 2 rows.
    """
    cfg = dataclasses.replace(cfg, generation=dataclasses.replace(cfg.generation, seed=seed))
    ids = [str(q) for q in questions.question_id]
    decodings = [mt_bench_decoding(c, cfg) for c in questions.category]
    first = [conversation_prompt(backend.tokenizer, [t], []) for t in questions.turn_1]
    first_out = _generate_grouped(backend, first, decodings)
    answers = [c.text.strip() for c in first_out]
    second = [
        conversation_prompt(backend.tokenizer, [t1, t2], [a1])
        for t1, t2, a1 in zip(questions.turn_1, questions.turn_2, answers)
    ]
    second_out = _generate_grouped(backend, second, decodings)
    return pd.concat(
        [
            _answers("mt_bench", ids, 1, first, first_out),
            _answers("mt_bench", ids, 2, second, second_out),
        ],
        ignore_index=True,
    )


def _generate_grouped(
    backend: Backend, prompts: list[str], decodings: list[GenerationConfig]
) -> list[Completion]:
    """Generate each prompt under its own decoding, one backend call per distinct decoding."""
    out: list[Completion | None] = [None] * len(prompts)
    for cfg in {json.dumps(dataclasses.asdict(d), sort_keys=True): d for d in decodings}.values():
        rows = [i for i, d in enumerate(decodings) if d == cfg]
        for i, completion in zip(rows, backend.generate([prompts[i] for i in rows], cfg)):
            out[i] = completion
    return out


def _answers(benchmark: str, ids: list[str], turn: int, prompts: list[str], outs) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "benchmark": benchmark,
            "id": ids,
            "turn": turn,
            "prompt": prompts,
            "output": [c.text.strip() for c in outs],
            "finish_reason": [c.finish_reason for c in outs],
        }
    )


def alpaca_eval_records(answers: pd.DataFrame, prompts: pd.DataFrame, generator: str) -> list:
    """AlpacaEval ``model_outputs`` records, in the order of ``prompts``.

    Each is ``{instruction, output, generator}``, plus ``dataset`` where the prompt has one.
    """
    by_id = _by_id(answers, "alpaca_eval", 1)
    records = []
    for pid, dataset, instruction in zip(prompts.id, prompts.dataset, prompts.instruction):
        record = {"instruction": instruction, "output": by_id[pid], "generator": generator}
        records.append(record | ({"dataset": dataset} if dataset else {}))
    return records


def mt_bench_records(answers: pd.DataFrame, questions: pd.DataFrame, model_id: str) -> list:
    """FastChat ``model_answer`` records, one per question, in the order of ``questions``.

    ``answer_id`` is a hash of the model id, question and answers (FastChat draws a random one;
    nothing reads it back), and ``tstamp`` is 0.0 (FastChat writes the wall clock; its judge
    never reads it), so the file is byte-identical for the same answers and the cached judge
    stage downstream does not rerun (and pay again) when only the clock moved.
    """
    first, second = _by_id(answers, "mt_bench", 1), _by_id(answers, "mt_bench", 2)
    records = []
    for qid in questions.question_id:
        turns = [first[str(qid)], second[str(qid)]]
        digest = hashlib.sha256(json.dumps([model_id, int(qid), turns]).encode()).hexdigest()
        records.append(
            {
                "question_id": int(qid),
                "answer_id": digest[:22],
                "model_id": model_id,
                "choices": [{"index": 0, "turns": turns}],
                "tstamp": 0.0,
            }
        )
    return records


def _by_id(answers: pd.DataFrame, benchmark: str, turn: int) -> dict[str, str]:
    rows = answers[(answers.benchmark == benchmark) & (answers.turn == turn)]
    return dict(zip(rows.id, rows.output))


def write_alpaca_eval(records: list, path: str | Path) -> None:
    """Write AlpacaEval ``model_outputs``: one JSON list, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def write_mt_bench(records: list, path: str | Path) -> None:
    """Write a FastChat ``model_answer`` file: one JSON object per line, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def read_alpaca_eval(path: str | Path) -> list:
    """Read and check AlpacaEval ``model_outputs``: a JSON list with one generator.

    Raises:
        RadisError: If the file is missing, not a JSON list of objects with the fields, or names
            several generators.
    """
    records = _json(path, json.loads)
    if not isinstance(records, list) or not records:
        raise RadisError(f"{path}: expected a non-empty JSON list of model outputs")
    for i, r in enumerate(records):
        missing = [f for f in ALPACA_FIELDS if not isinstance(r, dict) or f not in r]
        if missing:
            raise RadisError(f"{path}: record {i}: missing field(s) {missing}")
    if len({r["generator"] for r in records}) != 1:
        raise RadisError(
            f"{path}: expected one generator, got {sorted({r['generator'] for r in records})}"
        )
    return records


def read_mt_bench(path: str | Path) -> list:
    """Read and check a FastChat ``model_answer`` file: JSON lines with two-turn choices.

    Raises:
        RadisError: If the file is missing, a line is not JSON, lacks a field, or a choice does
            not hold two turns.
    """
    records = _json(path, lambda t: [json.loads(line) for line in t.splitlines() if line.strip()])
    if not records:
        raise RadisError(f"{path}: no answers")
    for i, r in enumerate(records, start=1):
        missing = [f for f in MT_BENCH_FIELDS if not isinstance(r, dict) or f not in r]
        if missing:
            raise RadisError(f"{path}: line {i}: missing field(s) {missing}")
        if any(len(c.get("turns", [])) != 2 for c in r["choices"]) or not r["choices"]:
            raise RadisError(f"{path}: line {i}: expected choices with two turns each")
    return records


def _json(path: str | Path, load):
    path = Path(path)
    if not path.is_file():
        raise RadisError(f"{path}: file not found (run the stage that produces it: dvc repro)")
    try:
        return load(path.read_text())
    except json.JSONDecodeError as err:
        raise RadisError(f"{path}: invalid JSON ({err})") from None
