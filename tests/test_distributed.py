"""Training under `accelerate launch`: two gloo CPU processes take the steps of one process."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from radis.core.io import RadisError, write_table
from radis.core.schemas import TRAIN_SET
from radis.train.distributed import DistributedConfig, accelerate_config, launch, shard
from radis.train.live import read_log
from radis.train.loop import TrainConfig

ROOT = Path(__file__).resolve().parents[1]


def test_shard_is_disjoint_round_robin_padded_to_equal_shares():
    items = ["a", "b", "c", "d", "e"]
    assert shard(items, 0, 2) == [("a", True), ("c", True), ("e", True)]
    assert shard(items, 1, 2) == [("b", True), ("d", True), ("a", False)]
    assert shard(items, 2, 3) == [("c", True), ("a", False)]
    assert shard(items, 0, 1) == [(x, True) for x in items]


def test_accelerate_config_from_params():
    ddp = accelerate_config(DistributedConfig(num_processes=4, fsdp_config={"fsdp_version": 2}))
    assert ddp["distributed_type"] == "MULTI_GPU" and ddp["num_processes"] == 4
    assert "fsdp_config" not in ddp and ddp["mixed_precision"] == "no"
    cfg = DistributedConfig(num_processes=2, strategy="fsdp", fsdp_config={"fsdp_version": 1})
    fsdp = accelerate_config(cfg)
    assert fsdp["distributed_type"] == "FSDP"
    wrap = "TRANSFORMER_BASED_WRAP"
    assert fsdp["fsdp_config"] == {"fsdp_version": 1, "fsdp_auto_wrap_policy": wrap}
    default = accelerate_config(DistributedConfig(num_processes=2, strategy="fsdp"))
    assert default["fsdp_config"]["fsdp_version"] == 2  # mixed bf16/float32 shards only in FSDP2


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_fsdp_without_a_gpu_is_refused_before_launching():
    with pytest.raises(RadisError, match=r"train.distributed.strategy: fsdp needs GPUs; use ddp"):
        launch(DistributedConfig(2, "fsdp"), "stages.train", ["vanilla"])


def test_fsdp_refuses_checkpoints():
    with pytest.raises(ValueError, match="checkpoint_every: no resumable checkpoints"):
        TrainConfig(checkpoint_every=5, distributed=DistributedConfig(2, "fsdp"))
    TrainConfig(checkpoint_every=5, distributed=DistributedConfig(2, "ddp"))


def test_fsdp1_is_refused():
    # Seen on an H100 (bench/gpu_fsdp.py): FSDP1 cannot flatten a bf16 base with float32
    # adapters, and its full state dict missed the embedding under per-layer wrapping.
    fsdp1 = DistributedConfig(2, "fsdp", fsdp_config={"fsdp_version": 1})
    with pytest.raises(ValueError, match="only fsdp_version 2 .the default. is supported"):
        TrainConfig(checkpoint_every=0, distributed=fsdp1)
    TrainConfig(dtype="bfloat16", checkpoint_every=0, distributed=DistributedConfig(2, "fsdp"))


def run_stage(root: Path, processes: int) -> subprocess.CompletedProcess:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train"] |= dict(
        epochs=2,
        batch_size=4,
        micro_batch_size=1,
        learning_rate=1.0e-2,
        checkpoint_every=2,
        lora={"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": "all-linear"},
        distributed={"num_processes": processes, "strategy": "ddp", "main_process_port": 0},
    )
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    env = os.environ | {"PYTHONPATH": str(ROOT), "RADIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "stages.train", "vanilla"]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_two_processes_take_the_steps_of_one(tmp_path, model_dir, world):
    # 13 rows: steps of 4, 4, 4 and 1 micro-batches of one row; the last leaves process 1 a
    # padding micro-batch. Two loss groups of different sizes, spread over both processes.
    rows = pd.DataFrame(world["chat"][:13])[["id", "prompt", "completion"]]
    rows = rows.assign(masked_suffix="", group=["a", "b", "a"] * 4 + ["b"])
    runs = {}
    for n in (1, 2):
        root = tmp_path / f"p{n}"
        (root / "data/models").mkdir(parents=True)
        (root / "data/models/backbone").symlink_to(model_dir)
        write_table(rows, root / "data/build/vanilla.parquet", TRAIN_SET)
        out = run_stage(root, n)
        assert out.returncode == 0, out.stderr[-3000:]
        assert out.stderr.count("saved lora model: ") == 1, out.stderr[-3000:]  # by rank 0 only
        assert sorted(p.name for p in (root / "data/models").iterdir()) == ["backbone", "vanilla"]
        assert not (root / "data/.work/train@vanilla").exists()
        adapter = load_file(root / "data/models/vanilla/adapter_model.safetensors")
        runs[n] = read_log(root / "metrics/train/vanilla"), adapter
    (log1, w1), (log2, w2) = runs[1], runs[2]
    assert log1.step.tolist() == log2.step.tolist() == list(range(1, 9))
    assert log2.target_tokens.tolist() == log1.target_tokens.tolist()
    assert log2.tokens.tolist() == log1.tokens.tolist()
    # Same batches, loss normalised by the whole step's tokens, gradients summed: the losses
    # and weights agree up to float reduction order (tolerances: 1e-5 relative, 1e-5 absolute).
    assert log2.loss.tolist() == pytest.approx(log1.loss.tolist(), rel=1e-5)
    assert log1.loss.iloc[-1] < log1.loss.iloc[0]
    assert w1.keys() == w2.keys()
    for key in w1:
        torch.testing.assert_close(w2[key], w1[key], rtol=0, atol=1e-5)
