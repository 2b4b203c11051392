"""GSM8K through lm-evaluation-harness's Python API, on a local Parquet (the paper's reasoning).

The task is ``radis/tasks/gsm8k_radis.yaml`` (its header states the scoring rule: exact match on
the number after ``####``). :func:`evaluate_gsm8k` writes a resolved copy of it, pointing at the
data file, into a temporary folder that a ``TaskManager`` indexes alone (not the harness's own
task set), and calls ``lm_eval.simple_evaluate`` with every knob that lm-eval has changed the
default of (few-shot count, chat template, few-shot as multi-turn) and every seed set from params.
"""

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from radis.config import positive
from radis.generate import resolve_model
from radis.io import RadisError, read_table
from radis.schemas import GSM8K

TASK = "gsm8k_radis"
TASK_YAML = Path(__file__).parent / "tasks" / f"{TASK}.yaml"
FILTER = "strict-match"
METRIC = f"exact_match,{FILTER}"


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


def write_task(task_dir: Path, data: Path, max_gen_toks: int, fewshot: Path | None = None) -> Path:
    """Write the task YAML resolved for ``data`` (and a few-shot file) into ``task_dir``.

    Returns:
        The written YAML's path.
    """
    config = yaml.safe_load(TASK_YAML.read_text())
    files = {"test": str(Path(data).resolve())}
    if fewshot is not None:
        files["train"] = str(Path(fewshot).resolve())
        config["fewshot_split"] = "train"
    config["dataset_kwargs"]["data_files"] = files
    config["generation_kwargs"]["max_gen_toks"] = max_gen_toks
    path = Path(task_dir) / TASK_YAML.name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def model_args(model: str, dtype: str, adapter: str = "") -> dict:
    """The harness's ``hf`` model arguments: a model folder or hub id, and a LoRA adapter."""
    args = {"pretrained": resolve_model(model), "dtype": dtype}
    return args | ({"peft": resolve_model(adapter)} if adapter else {})


def run_harness(model, task_dir: Path, cfg: Gsm8kConfig, seed: int, args: dict | None) -> dict:
    """``lm_eval.simple_evaluate`` on the task in ``task_dir``, every default made explicit.

    Args:
        model: ``"hf"`` (with ``args``) or an ``lm_eval.api.model.LM`` instance.
        task_dir: Folder holding the resolved task YAML.
        cfg: Few-shot, chat-template, batch and limit params.
        seed: Python, numpy, torch and few-shot sampler seed.
        args: Model arguments for a named model.
    """
    import lm_eval
    import torch
    from lm_eval.tasks import TaskManager

    return lm_eval.simple_evaluate(
        model=model,
        model_args=args,
        tasks=[TASK],
        num_fewshot=cfg.num_fewshot,
        batch_size=cfg.batch_size,
        device="cuda" if torch.cuda.is_available() else "cpu",
        limit=cfg.limit,
        bootstrap_iters=0,
        log_samples=True,
        apply_chat_template=cfg.apply_chat_template,
        fewshot_as_multiturn=cfg.fewshot_as_multiturn,
        task_manager=TaskManager(include_path=str(task_dir), include_defaults=False),
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
    )


def predictions(samples: list[dict]) -> pd.DataFrame:
    """One row per logged sample: input, output, extracted number, 1.0/0.0 (GSM8K_PREDICTION)."""
    return pd.DataFrame(
        {
            "doc_id": [s["doc_id"] for s in samples],
            "question": [s["doc"]["question"] for s in samples],
            "answer": [s["doc"]["answer"] for s in samples],
            "target": [str(s["target"]) for s in samples],
            "prompt": [str(s["arguments"][0][0]) for s in samples],
            "output": [s["resps"][0][0] for s in samples],
            "extracted": [s["filtered_resps"][0] for s in samples],
            "correct": [float(s["exact_match"]) for s in samples],
        }
    ).sort_values("doc_id", ignore_index=True)


def evaluate_gsm8k(
    model,
    data: Path,
    cfg: Gsm8kConfig,
    seed: int,
    args: dict | None = None,
    fewshot: Path | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score ``model`` on the GSM8K table ``data`` through lm-eval.

    Args:
        model: ``"hf"`` with ``args`` from :func:`model_args`, or an ``lm_eval`` ``LM`` instance.
        data: GSM8K Parquet (``question``, ``answer``), checked with :func:`read_gsm8k`.
        cfg: Params ``gsm8k``.
        seed: Every seed of the run.
        args: Model arguments for a named model.
        fewshot: Optional GSM8K Parquet to draw few-shot examples from (else the test file).

    Returns:
        Flat scores (``general.gsm8k``: exact match in %; ``general.gsm8k.n``: questions) and the
        per-question predictions.
    """
    read_gsm8k(data)
    if fewshot is not None:
        read_gsm8k(fewshot)
    with tempfile.TemporaryDirectory() as task_dir:
        write_task(Path(task_dir), data, cfg.max_gen_toks, fewshot)
        results = run_harness(model, Path(task_dir), cfg, seed, args)
    preds = predictions(results["samples"][TASK])
    accuracy = float(results["results"][TASK][METRIC])
    if math.isnan(accuracy) or not preds.shape[0]:
        raise RadisError(f"{data}: lm-eval scored no GSM8K question")
    return {"general.gsm8k": round(100 * accuracy, 2), "general.gsm8k.n": len(preds)}, preds
