"""Training resumes from its last checkpoint after a kill and ends like an uninterrupted run."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from radis.core.io import write_table
from radis.core.schemas import TRAIN_SET
from radis.train.live import read_log
from tests.faults import killed_after

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_killed_training_resumes_from_its_checkpoint(tmp_path, model_dir, world):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    (tmp_path / "data/models").mkdir(parents=True)
    (tmp_path / "data/models/backbone").symlink_to(model_dir)
    params["train"] |= dict(
        epochs=3,
        batch_size=4,
        micro_batch_size=2,
        checkpoint_every=3,
        lora={"r": 4, "lora_alpha": 8, "lora_dropout": 0.1, "target_modules": "all-linear"},
    )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    rows = pd.DataFrame(world["chat"][:48])[["id", "prompt", "completion"]].assign(
        masked_suffix="", group=""
    )
    write_table(rows, tmp_path / "data/build/vanilla.parquet", TRAIN_SET)
    env = os.environ | {"PYTHONPATH": str(ROOT), "RADIS_THREADS": "1"}
    cmd = [sys.executable, "-m", "stages.train", "vanilla"]
    adapter = tmp_path / "data/models/vanilla/adapter_model.safetensors"
    log_dir = tmp_path / "metrics/train/vanilla"  # DVCLive's folder

    subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    ref_log, ref_weights = read_log(log_dir), load_file(adapter)
    epochs = adapter.parent / "epochs"
    ref_epochs = {k: load_file(epochs / str(k) / adapter.name) for k in (1, 2, 3)}
    assert len(ref_log) == 36 and not (tmp_path / "data/.work/train@vanilla").exists()

    # The fault is injected, not timed: the run kills itself right after its second checkpoint.
    killed_env = killed_after(
        "radis.train.checkpoint.save_checkpoint", 2, env, tmp_path / "fault", ROOT
    )
    proc = subprocess.run(cmd, cwd=tmp_path, env=killed_env, capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    work = tmp_path / "data/.work/train@vanilla"
    saved = torch.load(next(work.glob("*/checkpoint.pt")), weights_only=True)
    assert len(saved["log"]) == 6  # checkpoints every 3 steps: killed after step 6's

    subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    log = read_log(log_dir)  # the restored steps logged again, then the resumed ones
    assert log.step.tolist() == list(range(1, 37))
    # The resumed steps replay the same batches, dropout masks and schedule: losses agree to
    # float noise (tolerance 1e-4 relative), and so do the adapter weights.
    assert log.loss.tolist() == pytest.approx(ref_log.loss.tolist(), rel=1e-4)
    for key, value in load_file(adapter).items():
        torch.testing.assert_close(value, ref_weights[key], rtol=1e-4, atol=1e-5)
    # every epoch's adapter, saved after the resume, is the uninterrupted run's
    assert sorted(p.name for p in epochs.iterdir()) == ["1", "2", "3"]
    for k, weights in ref_epochs.items():
        for key, value in load_file(epochs / str(k) / adapter.name).items():
            torch.testing.assert_close(value, weights[key], rtol=1e-4, atol=1e-5)
