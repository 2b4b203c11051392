"""Data-parallel generation (``base.vllm.data_parallel_size``): N engines in N worker processes
give exactly the one-engine output, each engine on its own GPUs; a failing engine is one line."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radis.core.config import parse
from radis.core.io import RadisError, write_table
from radis.core.params import BaseConfig, VLLMConfig
from radis.core.schemas import TRANSLATION
from radis.core.templates import continuation_prompt, generation_prompt
from radis.evaluate.safety import release
from radis.generate.backend import GenerationConfig
from radis.generate.load import load_backend
from radis.generate.parallel import EnginePool, ParallelBackend, gpu_groups, visible_gpus
from radis.generate.serve import open_backend
from tests.test_progress import lines

ROOT = Path(__file__).resolve().parents[1]
STAND_IN = Path(__file__).parent / "stand_in"


def _drop_vllm_modules():
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        del sys.modules[name]


@pytest.fixture
def vllm(monkeypatch, tmp_path):
    """The stand-in ``vllm``, importable here and in spawned workers; engines log to a file."""
    _drop_vllm_modules()
    monkeypatch.syspath_prepend(str(STAND_IN))
    monkeypatch.setenv("STAND_IN_VLLM_LOG", str(tmp_path / "engines.jsonl"))
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module("vllm")
    assert module.STAND_IN
    yield module
    _drop_vllm_modules()


def _log(tmp_path: Path) -> list[dict]:
    path = tmp_path / "engines.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _prompts(tokenizer, n: int) -> list[str]:
    """Chats opening a reply, chats continuing one, and plain strings, mixed."""
    out = []
    for i in range(n):
        if i % 3 == 0:
            out.append(generation_prompt(tokenizer, f"say {i} twice."))
        elif i % 3 == 1:
            out.append(continuation_prompt(tokenizer, f"Translate: the cat {i}.", "miro."))
        else:
            out.append(f"the red cat sees {i}")
    return out


def _base(backend: str, engines: int, **vllm) -> BaseConfig:
    settings = VLLMConfig(data_parallel_size=engines, **vllm)
    return BaseConfig(backend=backend, shard_rows=3, vllm=settings)


def test_gpu_groups_give_each_engine_its_own_consecutive_gpus(monkeypatch):
    assert gpu_groups(2, 2, ["0", "1", "2", "3", "4"]) == ["0,1", "2,3"]
    assert gpu_groups(3, 1, ["4", "6", "7"]) == ["4", "6", "7"]
    assert gpu_groups(2, 1, []) == [None, None]  # the CPU: nothing to assign
    with pytest.raises(RadisError, match=r"data_parallel_size 2 x tensor_parallel_size 2 needs 4"):
        gpu_groups(2, 2, ["0", "1", "2"])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3, 5")
    assert visible_gpus() == ["3", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []


def test_data_parallel_size_is_validated_and_never_given_to_vllm(vllm, model_dir):
    with pytest.raises(RadisError, match=r"base\.vllm\.data_parallel_size: must be > 0"):
        parse(BaseConfig, {"vllm": {"data_parallel_size": 0}}, "p: base")
    load_backend("vllm", model_dir, vllm=VLLMConfig(data_parallel_size=3))
    assert "data_parallel_size" not in vllm.LLM.instances[-1].kwargs


@pytest.mark.slow
def test_two_vllm_engines_split_the_shards_and_match_one_engine(
    vllm, model_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
    cfg = GenerationConfig(max_new_tokens=6, seed=10)
    two = open_backend(_base("vllm", 2, tensor_parallel_size=2), str(model_dir), "t")
    assert isinstance(two, ParallelBackend) and _log(tmp_path) == []  # no engine in this process
    prompts = _prompts(two.tokenizer, 10)  # 4 shards of 3, 3, 3, 1
    out = two.generate(prompts, cfg)

    engines = [r for r in _log(tmp_path) if r["event"] == "engine"]
    assert sorted(r["devices"] for r in engines) == ["0,1", "2,3"]
    for r in engines:
        assert r["kwargs"]["tensor_parallel_size"] == 2 and "data_parallel_size" not in r["kwargs"]
        assert r["pid"] != os.getpid()
    seeds = {}
    for r in _log(tmp_path):
        if r["event"] == "call":
            seeds.setdefault(r["devices"], set()).add(r["seed"])
    assert seeds == {"0,1": {10, 12}, "2,3": {11, 13}}  # shard i on engine i mod 2, seed 10 + i

    one = open_backend(_base("vllm", 1), str(model_dir), "one")
    assert one.generate(prompts, cfg) == out  # exactly one engine's completions, in order

    again = two.generate(prompts[:4], cfg)  # the running engines take a second call
    assert again == one.generate(prompts[:4], cfg)
    workers = [r for r in _log(tmp_path) if r["event"] == "engine" and r["pid"] != os.getpid()]
    assert len(workers) == 2
    workers = list(two.inner.procs)
    release(two)  # the safety stage frees the answering model before loading the judge
    for p in workers:
        p.join(30)
        assert p.exitcode == 0

    calls = len(vllm.LLM.instances[-1].calls)
    resumed = open_backend(_base("vllm", 1), str(model_dir), "t").generate(prompts, cfg)
    assert resumed == out and len(vllm.LLM.instances[-1].calls) == 0  # its shards reused
    assert calls > 0


@pytest.mark.slow
def test_a_failing_engine_is_one_error_line_and_stops_the_others(
    vllm, model_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setenv("STAND_IN_VLLM_BROKEN", "1")
    started = []
    start = EnginePool._start
    monkeypatch.setattr(
        EnginePool, "_start", lambda pool: (start(pool), started.extend(pool.procs))
    )
    backend = open_backend(_base("vllm", 2), str(model_dir), "t")
    pool = backend.inner
    with pytest.raises(RadisError) as err:
        backend.generate(_prompts(backend.tokenizer, 6), GenerationConfig(max_new_tokens=4))
    assert str(err.value) == (
        "generation engine 1 (GPUs 1) failed: RuntimeError: CUDA error: no CUDA-capable device "
        "is detected"
    )
    assert pool.procs == [] and len(started) == 2
    assert all(p.exitcode is not None for p in started)  # engine 0 was stopped too


@pytest.mark.slow
def test_a_dead_engine_fails_the_stage_with_one_line(model_dir, world, tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["base"] |= {"backend": "vllm", "shard_rows": 4}
    params["base"]["vllm"]["data_parallel_size"] = 2
    (tmp_path / "data/models").mkdir(parents=True)
    (tmp_path / "data/models/backbone").symlink_to(model_dir)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_table(world["parallel"], tmp_path / "data/fetch/translation.parquet", TRANSLATION)
    env = os.environ | {
        "PYTHONPATH": f"{STAND_IN}{os.pathsep}{ROOT}",
        "CUDA_VISIBLE_DEVICES": "0,1",
        "STAND_IN_VLLM_CRASH": "0",
        "RADIS_THREADS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "stages.rationales", "self"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    # Progress lines (the live engine's bar) may come first; the failure is one line, no trace.
    # multiprocessing's resource tracker may warn after it about the killed engine's semaphore.
    ours = [line for line in proc.stderr.strip().splitlines() if "resource_tracker" not in line]
    assert ours[-1] == (
        "error: generation engine 0 (GPUs 0) exited with code 9 and no error message"
    )
    assert "Traceback" not in proc.stderr and proc.stderr.count("error:") == 1
    assert not (tmp_path / "data/rationales/self.parquet").exists()


@pytest.mark.slow
def test_two_hf_processes_sample_exactly_what_one_does(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # the CPU, also on a GPU machine
    cfg = GenerationConfig(max_new_tokens=8, do_sample=True, temperature=1.0, seed=3)
    two = open_backend(_base("hf", 2), str(model_dir), "t")
    prompts = _prompts(two.tokenizer, 7)
    capsys.readouterr()
    out = two.generate(prompts, cfg)
    shown = lines(capsys.readouterr().err, "t")  # the parent's bar counts the engines' shards
    assert shown[-1][3] == shown[-1][4] == "7" and "tok/s" in shown[-1][0]
    two.clean()
    one = open_backend(_base("hf", 1), str(model_dir), "t")
    assert one.generate(prompts, cfg) == out
    assert len({c.text for c in out}) > 1
    assert pd.Series([c.finish_reason for c in out]).isin(["stop", "length"]).all()
