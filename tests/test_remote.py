"""Sharing fetched datasets through a DVC remote: push, empty the cache, pull without recomputing.

Runs the `fetch` stage (hub source, on a copy of the hub mirror in ../shared/data) in a temporary
git + DVC repository, pushes to a local-folder remote, then deletes the copy of the mirror, so a
stage that reran instead of pulling would fail.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

pytestmark = [
    pytest.mark.slow,  # dvc
    pytest.mark.skipif(
        not (SHARED / "hub").is_dir(),
        reason=f"{SHARED} absent: the hub mirror lives beside the checkout, not in it",
    ),
]


def sh(cwd, *cmd):
    env = os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HF_DATASETS_CACHE": str(Path(cwd).parent / "hf-cache"),
    }
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def fetch_stage() -> dict:
    """The repository's fetch stage, without the toy world's tables (the hub source reads none)."""
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["fetch"]
    deps = [d for d in stage["deps"] if not d.startswith("data/")]
    if "radis/data/hub.py" not in deps:
        deps.append("radis/data/hub.py")
    return stage | {"deps": deps}


def hub_params(mirror: Path) -> dict:
    raw = mirror / "raw"
    return {
        "base": {"seed": 0, "languages": ["cs", "de"]},
        "fetch": {
            "source": "hub",
            "mirror": str(mirror / "hub"),
            "hub": {
                "dolly": {
                    "id": "databricks/databricks-dolly-15k",
                    "local": str(raw / "alpaca-format/dolly_train.json"),
                },
                "alpaca_eval": {
                    "id": "tatsu-lab/alpaca_eval",
                    "local": str(raw / "alpaca-format/alpaca_eval.json"),
                    "columns": {"generator": None, "dataset": None},
                },
                "cocoa": {"local": str(raw / "cocoa-mt/en-de"), "domains": ["telephony"]},
            },
        },
    }


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def empty_workspace(repo: Path) -> None:
    shutil.rmtree(repo / "data/fetch")
    shutil.rmtree(repo / ".dvc/cache")


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    """A repository whose fetch outputs are pushed to a local remote; the mirror is then gone."""
    tmp = tmp_path_factory.mktemp("remote")
    repo, mirror, remote = tmp / "repo", tmp / "mirror", tmp / "storage"
    shutil.copytree(SHARED, mirror)
    for name in ("radis", "stages", ".dvc/config", ".dvc/.gitignore"):
        src, dst = ROOT / name, repo / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"fetch": fetch_stage()}}))
    (repo / "params.yaml").write_text(yaml.safe_dump(hub_params(mirror)))
    sh(repo, "git", "init", "-q")
    assert "Running stage 'fetch'" in sh(repo, "dvc", "repro")
    before = digests(repo / "data/fetch")
    assert {"translation.parquet", "instructions.parquet", "cocoa.parquet"} <= set(before)
    sh(repo, "dvc", "remote", "add", "-d", "local", str(remote))
    sh(repo, "dvc", "push")
    shutil.rmtree(mirror)  # from here on, running the stage again would fail
    return repo, before


def test_pull_restores_the_outputs(pushed):
    repo, before = pushed
    empty_workspace(repo)
    sh(repo, "dvc", "pull")
    assert digests(repo / "data/fetch") == before


def test_repro_pull_restores_without_rerunning(pushed):
    repo, before = pushed
    empty_workspace(repo)
    out = sh(repo, "dvc", "repro", "--pull")
    assert "Running stage" not in out
    assert digests(repo / "data/fetch") == before
    assert "up to date" in sh(repo, "dvc", "status")
