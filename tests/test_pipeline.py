"""Smoke test: `dvc repro` of a reduced toy config in a temporary copy of the repository."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# One method per kind of input (the other recipes differ only in the build, unit-tested).
METHODS = ["vanilla", "radis", "multitask", "seqkd", "sdft", "radis-masked", "sdrrl", "xcot"]
REDUCED = {
    "toy.world": dict(
        train_pairs=12,
        valid_pairs=2,
        test_pairs=3,
        backbone_pairs=10,
        backbone_items={"math": 15, "instruct": 15, "safety": 15},
        eval_items=3,
    ),
    "toy.backbone.vocab_size": 400,
    "toy.backbone.model": dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=256,
        tie_word_embeddings=True,
    ),
    "toy.backbone.train.epochs": 1,
    "train.epochs": 1,
    "train.batch_size": 16,
    "rationales.generation.max_new_tokens": 8,
    "evaluate.generation.max_new_tokens": 8,
    "selfgen.generation.max_new_tokens": 8,
    "multilingual.generation.max_new_tokens": 8,
    "selfanswer.questions": 12,
    "selfanswer.generation.max_new_tokens": 8,
    "build.sdrrl.parallel_pairs": 4,
    "methods": METHODS,
}


def set_dotted(params, dotted, value):
    *parents, last = dotted.split(".")
    for key in parents:
        params = params[key]
    params[last] = value


def sh(cwd, *cmd):
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "RADIS_THREADS": "2",
    }
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("repo")
    names = ("dvc.yaml", "params.yaml", "radis", "stages", "envs", ".dvc/config", ".dvc/.gitignore")
    for name in names:
        src, dst = ROOT / name, repo / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for dotted, value in REDUCED.items():
        set_dotted(params, dotted, value)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(repo, "git", "init", "-q")
    sh(repo, "dvc", "repro")
    return repo


def test_repro_writes_metrics_for_every_model(repo):
    for method in METHODS:
        metrics = json.loads((repo / "metrics" / f"{method}.json").read_text())
        assert {"mt.chrf", "mt.xx-en.bleu", "mt.en-xx.chrf", "fr", "preservation"} <= set(metrics)
        if metrics["fr"] is not None:  # None when the tiny backbone scores 0 everywhere
            assert metrics["preservation"] == pytest.approx(100 - metrics["fr"])
        assert (repo / "data/models" / method / "config.json").is_file()
    table = (repo / "metrics/table.md").read_text()
    assert all(f"| {m} |" in table for m in ["backbone", *METHODS])
    assert (repo / "metrics/figure1.png").read_bytes()[:4] == b"\x89PNG"
    for model in ("backbone", "vanilla", "radis"):  # suites.multilingual: SDRRL's evaluation
        scores = json.loads((repo / "metrics/eval" / model / "multilingual.json").read_text())
        assert {"general.math.en", "general.math.qa", "general.math.qb"} <= set(scores)
    rationales = json.loads((repo / "metrics/rationales/self.json").read_text())
    assert rationales["rows"] == 2 * 2 * 12  # two languages, both directions


def test_second_repro_is_a_no_op(repo):
    out = sh(repo, "dvc", "repro")
    assert "Running stage" not in out


def test_changing_one_methods_params_reruns_only_that_method(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["build"]["radis"]["keep_truncated"] = False
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = json.loads(sh(repo, "dvc", "status", "--json"))
    assert "build@radis" in status
    assert not [s for s in status if s != "build@radis"]
