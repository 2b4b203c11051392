"""GSM8K and the multilingual suite reach lm-eval through one call, each with its own knobs.

``lm_eval.simple_evaluate`` is replaced by a recorder; the arguments it gets, defaults applied,
must be those each suite passed when it called lm-eval itself.
"""

import ast
import inspect
from pathlib import Path

import lm_eval
import pandas as pd
import pytest
import torch
from test_gsm8k import ROWS, TRAIN, gsm_table

from radis.evaluate import multilingual_tasks
from radis.evaluate.gsm8k import Gsm8kConfig, evaluate_gsm8k
from radis.evaluate.multilingual import BenchData, MultilingualConfig

ROOT = Path(__file__).resolve().parents[1]
SIGNATURE = inspect.signature(lm_eval.simple_evaluate)
LM = object()  # a model instance: lm-eval never sees it here


class Stop(Exception):
    """Raised by the recorder: nothing runs after the call."""


@pytest.fixture
def calls(monkeypatch):
    """The arguments of every ``lm_eval.simple_evaluate`` call, defaults applied.

    ``task_manager`` is replaced by what it indexes: its folder and its tasks.
    """
    found = []

    def record(**kwargs):
        bound = SIGNATURE.bind(**kwargs)
        bound.apply_defaults()
        args = dict(bound.arguments)
        manager = args.pop("task_manager")
        args["task_manager"] = (Path(manager.include_path).name, sorted(manager.all_tasks))
        found.append(args)
        raise Stop

    monkeypatch.setattr(lm_eval, "simple_evaluate", record)
    return found


def expected(**kwargs) -> dict:
    """lm-eval's arguments: ``kwargs`` (what a suite passes) over lm-eval's own defaults."""
    bound = SIGNATURE.bind(**kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def seeds(seed: int) -> dict:
    return dict(
        random_seed=seed, numpy_random_seed=seed, torch_random_seed=seed, fewshot_random_seed=seed
    )


@pytest.mark.parametrize("named", [False, True])
def test_gsm8k_passes_its_knobs_and_a_named_models_batch_and_device(calls, tmp_path, named):
    data = gsm_table(tmp_path / "test.parquet", ROWS)
    shots = gsm_table(tmp_path / "train.parquet", TRAIN)
    cfg = Gsm8kConfig(num_fewshot=3, batch_size=4, limit=2, fewshot_as_multiturn=False)
    model, args = ("hf", {"pretrained": "m", "dtype": "float32"}) if named else (LM, None)
    with pytest.raises(Stop):
        evaluate_gsm8k(model, data, shots, cfg, seed=7, args=args)
    [call] = calls
    folder = call["task_manager"][0]
    assert call == expected(
        model=model,
        model_args=args,
        tasks=["gsm8k_radis"],
        num_fewshot=3,
        batch_size=4,
        device="cuda" if torch.cuda.is_available() else "cpu",
        limit=2,
        bootstrap_iters=0,
        log_samples=True,
        apply_chat_template=True,
        fewshot_as_multiturn=False,
        task_manager=(folder, ["gsm8k_radis"]),  # that folder alone, not lm-eval's tasks
        **seeds(7),
    )


def test_multilingual_generation_passes_its_knobs_and_every_row(calls):
    cfg = MultilingualConfig(apply_chat_template=False, fewshot_as_multiturn=False)
    data = BenchData("x", limit=1, num_fewshot=2)  # the rows are already cut: no limit
    rows = pd.DataFrame({"prompt": ["p1", "p2"], "target": ["t1", "t2"]})
    with pytest.raises(Stop):
        multilingual_tasks.generate(LM, {"ml_a": rows, "ml_b": rows}, cfg, data, seed=5)
    [call] = calls
    assert call == expected(
        model=LM,
        tasks=["ml_a", "ml_b"],
        num_fewshot=2,
        limit=None,
        bootstrap_iters=0,
        log_samples=True,
        apply_chat_template=False,
        fewshot_as_multiturn=False,
        task_manager=(call["task_manager"][0], ["ml_a", "ml_b"]),
        **seeds(5),
    )


def test_belebele_passes_its_knobs(calls, tmp_path):
    (tmp_path / "facebook/belebele").mkdir(parents=True)
    cfg = MultilingualConfig(
        mirror=str(tmp_path), apply_chat_template=True, fewshot_as_multiturn=True
    )
    cfg.belebele.limit, cfg.belebele.num_fewshot = 3, 1
    with pytest.raises(Stop):
        multilingual_tasks.belebele(LM, ["ces_Latn", "rus_Cyrl"], cfg, seed=2)
    [call] = calls
    tasks = ["belebele_ces_Latn", "belebele_rus_Cyrl"]
    assert call == expected(
        model=LM,
        tasks=tasks,
        num_fewshot=1,
        limit=3,
        bootstrap_iters=0,
        log_samples=True,
        apply_chat_template=True,
        fewshot_as_multiturn=True,
        task_manager=(call["task_manager"][0], tasks),
        **seeds(2),
    )


def test_only_the_harness_module_calls_lm_eval():
    """One wrapper: no other module calls ``simple_evaluate`` or builds lm-eval's model."""
    callers = set()
    for path in (ROOT / "radis").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in ("simple_evaluate", "get_model"):
                    callers.add(str(path.relative_to(ROOT)))
    assert callers == {"radis/evaluate/harness.py"}
