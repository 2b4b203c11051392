"""Resumable generation: a killed run resumes from its shards and ends as an uninterrupted one."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radis.core.io import read_table, write_table
from radis.core.schemas import RATIONALE, TRANSLATION
from radis.generate.backend import Completion, GenerationConfig
from radis.generate.shards import ShardedBackend, work_key
from tests.faults import killed_after

ROOT = Path(__file__).resolve().parents[1]


class Counting:
    """A stand-in backend: echoes prompts, counts calls, and can die after some calls."""

    tokenizer = None

    def __init__(self, die_after=None):
        self.calls, self.die_after = 0, die_after

    def generate(self, prompts, cfg):
        if self.die_after is not None and self.calls >= self.die_after:
            raise KeyboardInterrupt
        self.calls += 1
        return [Completion(p.upper(), "stop", len(p), 1) for p in prompts]


def test_resume_generates_only_missing_shards(tmp_path):
    prompts = [f"p{i}" for i in range(10)]
    cfg = GenerationConfig(max_new_tokens=4)
    with pytest.raises(KeyboardInterrupt):
        ShardedBackend(Counting(die_after=2), tmp_path, 3, "m").generate(prompts, cfg)
    inner = Counting()
    out = ShardedBackend(inner, tmp_path, 3, "m").generate(prompts, cfg)
    assert inner.calls == 2  # 4 shards, 2 left by the killed run
    assert [c.text for c in out] == [p.upper() for p in prompts]


def test_changed_params_or_model_do_not_resume_stale_work():
    prompts = ["a", "b"]
    key = work_key(prompts, GenerationConfig(max_new_tokens=4), "m", 3)
    assert key != work_key(prompts, GenerationConfig(max_new_tokens=5), "m", 3)
    assert key != work_key(prompts, GenerationConfig(max_new_tokens=4), "m2", 3)
    assert key != work_key(["a", "c"], GenerationConfig(max_new_tokens=4), "m", 3)
    assert key == work_key(list(prompts), GenerationConfig(max_new_tokens=4), "m", 3)


@pytest.mark.slow
def test_killed_stage_resumes_and_matches_an_uninterrupted_run(tmp_path, model_dir, world):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["base"] |= {"shard_rows": 4}
    (tmp_path / "data/models").mkdir(parents=True)
    (tmp_path / "data/models/backbone").symlink_to(model_dir)
    params["rationales"]["generation"]["max_new_tokens"] = 24
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_table(world["parallel"], tmp_path / "data/fetch/translation.parquet", TRANSLATION)
    out = tmp_path / "data/rationales/self.parquet"
    env = os.environ | {"PYTHONPATH": str(ROOT), "RADIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "stages.rationales", "self"]

    subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    reference = read_table(out, RATIONALE)
    assert not (tmp_path / "data/.work/rationales@self").exists()  # cleaned after success
    out.unlink()

    # The fault is injected, not timed: the run kills itself once its third shard is written.
    killed_env = killed_after("radis.generate.shards.write_table", 3, env, tmp_path / "fault", ROOT)
    proc = subprocess.run(cmd, cwd=tmp_path, env=killed_env, capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    work = tmp_path / "data/.work/rationales@self"
    shards = list(work.glob("*/shard-*.parquet"))
    n_shards = -(-len(reference) // 4)
    assert len(shards) == 3 < n_shards, "the run was not killed part-way"
    assert not out.exists()

    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"resumed: {len(shards)}/{n_shards} shards" in result.stderr
    pd.testing.assert_frame_equal(read_table(out, RATIONALE), reference)
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
