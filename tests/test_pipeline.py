"""`dvc repro` of a reduced toy config in a temporary git repository, and DVC's promises on it:
a second repro is a no-op, a rebuilt backbone has the same hash, a fresh clone restores the whole
pipeline from a remote with nothing to rerun, a new method reruns only its own stages, and a
queued experiment reuses the cached backbone.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import THREADS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # dvc runs every stage as a process

# One method per stage that writes training data: the translation pairs (vanilla), the
# rationales (radis), the backbone's own replies (seqkd: selfgen) and SDRRL's self answers,
# translations, filter and code-switching (sdrrl). The other recipes read the same tables and
# differ only in the build (tests/test_build.py, tests/test_sdrrl_stages.py).
METHODS = ["vanilla", "radis", "seqkd", "sdrrl"]
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
    "selfgen.kinds": ["translate"],  # seqkd
    "selfanswer.enabled": True,  # sdrrl
    "suites.multilingual": ["vanilla"],  # SDRRL's evaluation, on a method's adapter
    "methods": METHODS,
}
GIT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"} | {
    "GIT_COMMITTER_EMAIL": "t@t"
}


def set_dotted(params, dotted, value):
    *parents, last = dotted.split(".")
    for key in parents:
        params = params[key]
    params[last] = value


def sh(cwd, *cmd):
    env = (
        os.environ
        | {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "RADIS_THREADS": str(THREADS),
        }
        | GIT
    )
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
    commit(repo, "baseline")
    return repo


def commit(repo, message):
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", message)


def ran(output: str) -> set[str]:
    """The stages a `dvc repro` / `dvc exp run` output says it ran."""
    return set(re.findall(r"Running stage '([^']+)'", output))


def out_hash(repo, stage, path):
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"][stage]
    return next(o["md5"] for o in lock["outs"] if o["path"] == path)


def test_repro_writes_metrics_for_every_model(repo):
    for method in METHODS:
        metrics = json.loads((repo / "metrics" / f"{method}.json").read_text())
        assert {"mt.chrf", "mt.xx-en.bleu", "mt.en-xx.chrf", "fr", "preservation"} <= set(metrics)
        if metrics["fr"] is not None:  # None when the tiny backbone scores 0 everywhere
            assert metrics["preservation"] == pytest.approx(100 - metrics["fr"])
        assert (repo / "data/models" / method / "adapter_config.json").is_file()
    table = (repo / "metrics/table.md").read_text()
    assert all(f"| {m} |" in table for m in ["backbone", *METHODS])
    assert (repo / "metrics/figure1.png").read_bytes()[:4] == b"\x89PNG"
    assert (repo / "metrics/tradeoff.png").read_bytes()[:4] == b"\x89PNG"
    scores = json.loads((repo / "metrics/eval/vanilla/multilingual.json").read_text())
    assert {"general.math.en", "general.math.qa", "general.math.qb"} <= set(scores)
    rationales = json.loads((repo / "metrics/rationales/self.json").read_text())
    assert rationales["rows"] == 2 * 2 * 12  # two languages, both directions


def test_second_repro_is_a_no_op(repo):
    out = sh(repo, "dvc", "repro")
    assert "Running stage" not in out


def test_models_and_adapters_are_cached_outputs(repo):
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for stage, path in [("backbone", "data/models/backbone"), ("train@radis", "data/models/radis")]:
        (out,) = [o for o in lock[stage]["outs"] if o["path"] == path]
        assert out["md5"].endswith(".dir")
    status = yaml.safe_load(sh(repo, "dvc", "data", "status", "--json"))
    assert not status.get("uncommitted"), status  # every cached output is in the cache
    assert not (repo / "data/models/backbone/train_log.csv").exists()  # no clock inside


def test_rebuilt_backbone_has_the_same_hash(repo):
    before = out_hash(repo, "backbone", "data/models/backbone")
    assert ran(sh(repo, "dvc", "repro", "--force", "--single-item", "backbone")) == {"backbone"}
    assert out_hash(repo, "backbone", "data/models/backbone") == before
    assert "up to date" in sh(repo, "dvc", "status")  # nothing downstream to rerun
    sh(repo, "git", "checkout", "-q", "--", ".")  # the training log's clock column moved


def test_fresh_clone_pulls_the_whole_pipeline(repo, tmp_path):
    sh(repo, "dvc", "remote", "add", "-d", "storage", str(tmp_path / "storage"))
    commit(repo, "remote")
    sh(repo, "dvc", "push")
    clone = tmp_path / "clone"
    sh(tmp_path, "git", "clone", "-q", str(repo), str(clone))
    sh(clone, "dvc", "pull")
    assert "up to date" in sh(clone, "dvc", "status")
    assert ran(sh(clone, "dvc", "repro")) == set()
    assert (clone / "data/models/backbone/config.json").is_file()
    assert (clone / "data/models/radis/adapter_config.json").is_file()  # no merged copy


def test_changing_one_methods_params_reruns_only_that_method(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["build"]["radis"]["truncated"] = "drop"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = json.loads(sh(repo, "dvc", "status", "--json"))
    # train@<m> and gradcos@<m> read build.<m> too (the overrides of `train`, the recipe): all
    # three are the method's own
    assert set(status) == {"build@radis", "train@radis", "gradcos@radis"}
    sh(repo, "git", "checkout", "-q", "--", "params.yaml")


def test_adding_a_method_reruns_only_its_stages(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["methods"] = [*METHODS, "radis-p50"]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    own = {f"{s}@radis-p50" for s in ("build", "train", "evaluate", "gradcos", "report")}
    assert ran(sh(repo, "dvc", "repro")) == own | {"summary"}
    assert "| radis-p50 |" in (repo / "metrics/table.md").read_text()
    sh(repo, "git", "checkout", "-q", "--", ".")
    sh(repo, "git", "clean", "-qfd", "data", "metrics")
    sh(repo, "dvc", "checkout", "-q")


def test_adding_a_rationale_set_retrains_nothing(repo):
    """The new set's stage runs; each build reads the rationale folder, so it reruns (seconds),
    writes the same bytes, and nothing after it runs."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["rationales"]["models"]["rules"] = "toy-gloss"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    ran_now = ran(sh(repo, "dvc", "repro"))
    assert ran_now == {"rationales@rules"} | {f"build@{m}" for m in METHODS}
    sh(repo, "git", "checkout", "-q", "--", ".")
    sh(repo, "git", "clean", "-qfd", "data", "metrics")
    sh(repo, "dvc", "checkout", "-q")


def test_a_queued_experiment_reuses_the_cached_backbone(repo):
    assert "up to date" in sh(repo, "dvc", "status")
    # the rule-written rationales: whole sentences at any length, so the proportion trains anew
    queue = ["dvc", "exp", "run", "--queue", "-S", "build.radis.rationales=gloss"]
    sh(repo, *queue, "-S", "build.radis.proportion=0.5")
    sh(repo, "dvc", "queue", "start", "--jobs", "1")
    deadline = time.time() + 1200
    while "Queued" in (status := sh(repo, "dvc", "queue", "status")) or "Running" in status:
        assert time.time() < deadline, status
        time.sleep(2)
    assert status.count("Success") == 1, status
    shown = json.loads(sh(repo, "dvc", "exp", "show", "--json"))
    (exp,) = [e for rev in shown for e in (rev.get("experiments") or [])]
    logs = sh(repo, "dvc", "queue", "logs", exp["name"])
    assert {"build@radis", "train@radis", "evaluate@radis"} <= ran(logs), logs
    assert not ran(logs) & {"toy", "backbone", "fetch", "rationales@self", "train@vanilla"}
    (run,) = exp["revs"]
    assert "mt.chrf" in run["data"]["metrics"]["metrics/radis.json"]["data"]
