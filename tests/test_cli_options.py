"""Every stage declares NAME, --model, --adapter and METHOD once: the aliases of radis.cli."""

import importlib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from radis import cli

ROOT = Path(__file__).resolve().parents[1]
STAGES = sorted(p.stem for p in (ROOT / "stages").glob("*.py") if p.stem != "__init__")
EVALUATIONS = ["evaluate", "formality", "gsm8k", "instruct", "multilingual", "safety"]
SHARED = {
    "name": cli.ModelName,
    "model": cli.ModelOption,
    "adapter": cli.AdapterOption,
    "method": cli.MethodName,
}
#: Stages whose argument of that name means something else.
OTHER = {("rationales", "name")}


def main_of(stage: str):
    return importlib.import_module(f"stages.{stage}").main


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_redeclares_a_shared_argument(stage):
    annotations = main_of(stage).__annotations__
    for param, alias in SHARED.items():
        if param in annotations and (stage, param) not in OTHER:
            assert annotations[param] == alias, f"stages/{stage}.py: {param}: use radis.cli's"


@pytest.mark.parametrize("stage", EVALUATIONS)
def test_evaluation_stages_take_model_and_adapter_with_the_shared_help(stage):
    module = importlib.import_module(f"stages.{stage}")
    params = {p.name: p for p in typer.main.get_command(module.app).params}
    for param in ("name", "model", "adapter"):
        assert main_of(stage).__annotations__[param] == SHARED[param]
    assert params["model"].opts == ["--model"] and params["adapter"].opts == ["--adapter"]
    assert params["model"].help == "Model folder instead of NAME's (data/models/NAME)."
    assert params["adapter"].help == "LoRA adapter folder on MODEL (default: the backbone)."
    assert params["name"].help.startswith("Model: backbone or a method")
    shown = CliRunner().invoke(module.app, ["--help"])
    assert shown.exit_code == 0 and "--model" in shown.output and "--adapter" in shown.output


def test_the_named_stages_take_the_shared_name():
    for stage in ("comet", "judge"):
        assert main_of(stage).__annotations__["name"] == cli.ModelName
    for stage in ("report", "train", "build"):
        assert main_of(stage).__annotations__["method"] == cli.MethodName
