"""``base.seed`` travels one way: stages pass it as an argument, the library seeds the configs.

No stage (nor the library) sets a config's ``seed``; every entry point that generates or trains
hands its ``seed`` argument to the backend or the training loop, whatever seed the config held.
"""

import ast
from pathlib import Path

import pandas as pd
import pytest
from test_formality import ROWS as COCOA_ROWS
from test_instruct_eval import PROMPTS, QUESTIONS

from radis.data.rationales import RationaleConfig, generate_rationales
from radis.data.selfgen import SelfGenConfig, self_generate
from radis.evaluate import safety
from radis.evaluate.formality import FormalityConfig, translate_formality
from radis.evaluate.instruct import InstructEvalConfig, answer_alpaca_eval, answer_mt_bench
from radis.evaluate.translation import EvaluateConfig, answer_general, translate
from radis.generate.backend import Completion, GenerationConfig
from radis.sdrrl.selfanswer import SelfAnswerConfig, self_answer
from radis.toy import backbone
from radis.toy.multilingual import evaluate_toy
from radis.train.loop import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
SEED = 17  # base.seed; every config below holds GenerationConfig's default seed, 0


def seed_assignments(path: Path) -> list[str]:
    """``<line>: <target>`` of every assignment to an attribute ``seed`` but ``self.seed``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(t, ast.Attribute) and t.attr == "seed":
                    if not (isinstance(t.value, ast.Name) and t.value.id == "self"):
                        found.append(f"{node.lineno}: {ast.unparse(t)}")
    return found


def test_no_code_sets_a_configs_seed():
    files = sorted((ROOT / "stages").glob("*.py")) + sorted((ROOT / "radis").rglob("*.py"))
    found = {str(p.relative_to(ROOT)): seed_assignments(p) for p in files}
    assert {p: f for p, f in found.items() if f} == {}


def test_no_stage_parses_a_seed_into_a_config():
    for path in sorted((ROOT / "stages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "params":
                assert "seed" not in [k.arg for k in node.keywords], f"{path.name}:{node.lineno}"


def test_the_check_sees_a_mutation(tmp_path):
    stage = tmp_path / "stage.py"
    stage.write_text("cfg.generation.seed = b.seed\ncfg.a.seed = cfg.b.seed = 1\nself.seed = 2\n")
    assert seed_assignments(stage) == ["1: cfg.generation.seed", "2: cfg.a.seed", "2: cfg.b.seed"]


class Recorder:
    """A backend that answers ``x`` and records the seed of every call's decoding."""

    def __init__(self, tokenizer):
        self.tokenizer, self.seeds = tokenizer, []

    def generate(self, prompts, cfg: GenerationConfig):
        self.seeds.append(cfg.seed)
        return [Completion("x", "stop", 1, 1) for _ in prompts]


def entry_points(world):
    """Every library function a stage calls to generate, as ``call(backend, seed)``."""
    parallel = pd.DataFrame(world["parallel"])
    train = parallel[parallel.split == "train"].head(3).reset_index(drop=True)
    test = parallel[parallel.split == "test"].head(3).reset_index(drop=True)
    general = pd.DataFrame(world["general"]).head(3)
    items = pd.DataFrame({"id": ["a", "b"], "prompt": ["Do harm.", "Do good."]})
    answers = items.assign(output=["No.", "Yes."])
    questions = pd.DataFrame({"id": ["q"], "prompt": ["Why?"], "completion": ["Because."]})
    return {
        "translate": lambda b, s: translate(b, test, EvaluateConfig(), s),
        "answer_general": lambda b, s: answer_general(b, general, EvaluateConfig(), s),
        "formality": lambda b, s: translate_formality(b, COCOA_ROWS, FormalityConfig(), s),
        "alpaca_eval": lambda b, s: answer_alpaca_eval(b, PROMPTS, GenerationConfig(), s),
        "mt_bench": lambda b, s: answer_mt_bench(b, QUESTIONS, InstructEvalConfig(), s),
        "safety.answer": lambda b, s: safety.answer(b, items, safety.SafetyConfig(), s),
        "safety.judge": lambda b, s: safety.judge(b, answers, safety.SafetyConfig(), s),
        "selfanswer": lambda b, s: self_answer(questions, b, SelfAnswerConfig(), s),
        "selfgen": lambda b, s: self_generate("rewrite", train, b, SelfGenConfig(), s),
        "rationales": lambda b, s: generate_rationales(train, b, RationaleConfig(), s),
        "multilingual toy": lambda b, s: evaluate_toy(b, general, ["qa"], GenerationConfig(), s),
    }


NAMES = [
    "translate",
    "answer_general",
    "formality",
    "alpaca_eval",
    "mt_bench",
    "safety.answer",
    "safety.judge",
    "selfanswer",
    "selfgen",
    "rationales",
    "multilingual toy",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_generation_samples_with_the_seed_argument(name, world, tokenizer):
    backend = Recorder(tokenizer)
    calls = entry_points(world)
    assert sorted(calls) == sorted(NAMES)
    calls[name](backend, SEED)
    assert backend.seeds and set(backend.seeds) == {SEED}


def test_the_toy_backbone_trains_with_the_seed_argument(monkeypatch, world, tokenizer):
    seeds = []
    monkeypatch.setattr(backbone, "fit", lambda model, ex, cfg, pad, on_log: seeds.append(cfg.seed))
    backbone.instruction_tune(None, tokenizer, world["chat"][:2], TrainConfig(), SEED)
    assert seeds == [SEED]
