"""The smoke check of a new machine (`python -m radis.smoke`): one line per part, on the CPU."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from radis.core.io import read_table
from radis.core.schemas import RATIONALE

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each test runs `python -m radis.smoke`


def smoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = os.environ | {"CUDA_VISIBLE_DEVICES": "", "RADIS_THREADS": "1"}  # the CPU everywhere
    cmd = [sys.executable, "-m", "radis.smoke", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def paper_with(tmp_path: Path, **changes) -> Path:
    """configs/paper.yaml with ``changes`` (``"base.backend": "tgi"``)."""
    params = yaml.safe_load((ROOT / "configs/paper.yaml").read_text())
    for dotted, value in changes.items():
        *keys, last = dotted.split(".")
        node = params
        for key in keys:
            node = node[key]
        node[last] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_tiny_runs_every_part_of_the_paper_setup(tmp_path):
    proc = smoke("--tiny", "--params", "configs/paper.yaml", "--work", str(tmp_path / "w"))
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["model", "rationales", "train", "evaluate"]
    assert all(re.fullmatch(r"\w+: ok \(.*, \d+ s\)", line) for line in lines), proc.stdout
    assert proc.returncode == 0
    assert lines[1].startswith("rationales: ok (hf, float32, 8 prompts on 1 engine(s)")
    assert lines[2].startswith("train: ok (3 steps, loss ") and "float32, sdpa" in lines[2]
    assert "with the trained adapter (merged)" in lines[3]  # the paper's base.serve
    assert len(list((tmp_path / "w/merged").iterdir())) == 1  # the merged copy it loaded
    made = read_table(tmp_path / "w/rationales.parquet", RATIONALE)
    assert len(made) == 8 and (made.rationale_tokens > 0).all()
    assert (tmp_path / "w/adapter/adapter_config.json").is_file()
    assert (tmp_path / "w/checkpoint/checkpoint.pt").is_file()  # saved at step 2


def test_a_broken_part_fails_alone_and_the_exit_status_says_so(tmp_path):
    params = paper_with(
        tmp_path,
        **{
            "base.backend": "tgi",  # unknown: generation and evaluation cannot run
            "base.dtype": "float32",
            "train.dtype": "float32",
            "train.distributed.num_processes": 2,  # two gloo processes under accelerate launch
        },
    )
    proc = smoke("--params", str(params), "--work", str(tmp_path / "w"))
    lines = proc.stdout.splitlines()
    fail = f"FAIL: {params}: base.backend: 'tgi' is not one of ['hf', 'vllm']"
    assert lines[0].startswith("model: ok (")
    assert lines[1] == f"rationales: {fail}"
    assert lines[2].startswith("train: ok (3 steps") and "2 processes (ddp)" in lines[2]
    assert lines[3] == f"evaluate: {fail}"
    assert proc.returncode == 1


def test_a_used_work_folder_is_refused(tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "w/keep.txt").write_text("mine")
    proc = smoke("--tiny", "--work", str(tmp_path / "w"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().endswith("not empty (give a new or empty folder)")
    assert (tmp_path / "w/keep.txt").read_text() == "mine"
