"""GSM8K through lm-evaluation-harness's Python API, on local Parquet files (the paper's reasoning).

The task is ``radis/evaluate/tasks/gsm8k_radis.yaml``: lm-eval's own ``gsm8k`` task (few-shot
examples from the train split, its strict-match and flexible-extract filters and exact-match
normalisation; its header states the rules) over local files. :func:`evaluate_gsm8k` writes a
resolved copy of it, pointing at the test and train files, into a temporary folder that a
``TaskManager`` indexes alone (not the harness's own task set), and runs it through
:func:`radis.evaluate.harness.run` with every knob and seed from params.
"""

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from radis.core.config import positive
from radis.core.io import RadisError, read_table
from radis.core.schemas import GSM8K, GSM8K_PREDICTION
from radis.evaluate import harness

TASK = "gsm8k_radis"
TASK_YAML = Path(__file__).parent / "tasks" / f"{TASK}.yaml"
STRICT, FLEXIBLE = "strict-match", "flexible-extract"


@dataclass
class Gsm8kConfig:
    """Params ``gsm8k``.

    Attributes:
        num_fewshot: Worked examples before each question (lm-eval's GSM8K default is 5).
        apply_chat_template: Render the prompt with the model's chat template (chat models).
        fewshot_as_multiturn: Few-shot examples as earlier user/assistant turns rather than one
            user message; needs ``apply_chat_template``.
        batch_size: Questions per generation batch of the harness's HF model.
        limit: Evaluate only the first ``limit`` questions; null: all.
        max_gen_toks: Tokens generated per answer (room for the worked solution).
    """

    num_fewshot: int = 5
    apply_chat_template: bool = True
    fewshot_as_multiturn: bool = True
    batch_size: int = 8
    limit: int | None = None
    max_gen_toks: int = 256

    def __post_init__(self):
        positive(batch_size=self.batch_size, max_gen_toks=self.max_gen_toks)
        if self.limit is not None:
            positive(limit=self.limit)
        if self.num_fewshot < 0:
            raise ValueError(f"num_fewshot: must be >= 0, got {self.num_fewshot}")
        if self.fewshot_as_multiturn and not self.apply_chat_template:
            raise ValueError("fewshot_as_multiturn: needs apply_chat_template: true")


def read_gsm8k(path: str | Path) -> pd.DataFrame:
    """Read and check a GSM8K table: every ``answer`` must carry a ``#### N`` final line.

    Raises:
        RadisError: If the file is missing or malformed, or an answer has no ``####``.
    """
    rows = read_table(path, GSM8K)
    bad = [i for i, a in enumerate(rows.answer) if "####" not in a]
    if bad:
        raise RadisError(f"{path}: column 'answer': row {bad[0]} has no '#### N' final answer")
    return rows


def write_task(task_dir: Path, data: Path, fewshot: Path, max_gen_toks: int) -> Path:
    """Write the task YAML resolved for test file ``data`` and few-shot pool ``fewshot``.

    Returns:
        The written YAML's path.
    """
    config = yaml.safe_load(TASK_YAML.read_text())
    config["dataset_kwargs"]["data_files"] = {
        "test": str(Path(data).resolve()),
        "train": str(Path(fewshot).resolve()),
    }
    config["generation_kwargs"]["max_gen_toks"] = max_gen_toks
    path = Path(task_dir) / TASK_YAML.name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_harness(model, task_dir: Path, cfg: Gsm8kConfig, seed: int, args: dict | None) -> dict:
    """:func:`radis.evaluate.harness.run` of the task in ``task_dir`` with params ``gsm8k``.

    Args:
        model: ``"hf"`` (with ``args``) or an ``lm_eval.api.model.LM`` instance.
        task_dir: Folder holding the resolved task YAML.
        cfg: Few-shot, chat-template, batch and limit params.
        seed: Python, numpy, torch and few-shot sampler seed.
        args: Model arguments for a named model.
    """
    return harness.run(
        model,
        task_dir,
        [TASK],
        num_fewshot=cfg.num_fewshot,
        limit=cfg.limit,
        apply_chat_template=cfg.apply_chat_template,
        fewshot_as_multiturn=cfg.fewshot_as_multiturn,
        seed=seed,
        model_args=args,
        batch_size=cfg.batch_size,
        device=harness.device(),
    )


def predictions(samples: list[dict]) -> pd.DataFrame:
    """One row per question: input, output, and each filter's extraction and 1.0/0.0 verdict.

    lm-eval logs a sample per (question, filter); they are joined on ``doc_id``
    (GSM8K_PREDICTION).
    """
    by_filter = {STRICT: {}, FLEXIBLE: {}}
    for s in samples:
        by_filter[s["filter"]][s["doc_id"]] = s
    strict, flexible = by_filter[STRICT], by_filter[FLEXIBLE]
    ids = sorted(strict)
    return pd.DataFrame(
        {
            "doc_id": ids,
            "question": [strict[i]["doc"]["question"] for i in ids],
            "answer": [strict[i]["doc"]["answer"] for i in ids],
            "target": [str(strict[i]["target"]) for i in ids],
            "prompt": [str(strict[i]["arguments"][0][0]) for i in ids],
            "output": [strict[i]["resps"][0][0] for i in ids],
            "extracted": [strict[i]["filtered_resps"][0] for i in ids],
            "correct": [float(strict[i]["exact_match"]) for i in ids],
            "flexible_extracted": [flexible[i]["filtered_resps"][0] for i in ids],
            "flexible_correct": [float(flexible[i]["exact_match"]) for i in ids],
        },
        columns=list(GSM8K_PREDICTION.fields),
    )


def evaluate_gsm8k(
    model,
    data: Path,
    fewshot: Path,
    cfg: Gsm8kConfig,
    seed: int,
    args: dict | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score ``model`` on the GSM8K table ``data`` through lm-eval.

    Args:
        model: ``"hf"`` with ``args`` from :func:`radis.evaluate.harness.model_args`, or an
            ``lm_eval`` ``LM`` instance.
        data: GSM8K test Parquet (``question``, ``answer``), checked with :func:`read_gsm8k`.
        fewshot: GSM8K Parquet the few-shot examples are drawn from (the train split).
        cfg: Params ``gsm8k``.
        seed: Every seed of the run.
        args: Model arguments for a named model.

    Returns:
        Flat scores in %: ``general.gsm8k`` (strict-match exact match, lm-eval's
        ``exact_match,strict-match``), ``general.gsm8k.flexible_extract``; ``general.gsm8k.n``
        (questions); and the per-question predictions.
    """
    read_gsm8k(data)
    read_gsm8k(fewshot)
    with tempfile.TemporaryDirectory() as task_dir:
        write_task(Path(task_dir), data, fewshot, cfg.max_gen_toks)
        results = run_harness(model, Path(task_dir), cfg, seed, args)
    preds = predictions(results["samples"][TASK])
    scores = {f: float(results["results"][TASK][f"exact_match,{f}"]) for f in (STRICT, FLEXIBLE)}
    if math.isnan(scores[STRICT]) or not preds.shape[0]:
        raise RadisError(f"{data}: lm-eval scored no GSM8K question")
    return {
        "general.gsm8k": round(100 * scores[STRICT], 2),
        "general.gsm8k.flexible_extract": round(100 * scores[FLEXIBLE], 2),
        "general.gsm8k.n": len(preds),
    }, preds
