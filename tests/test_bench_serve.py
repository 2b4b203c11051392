"""bench/serve.py runs on given folders and prints every figure (a tiny model, 2 new tokens)."""

import os
import shutil
import subprocess
import sys

import pytest
from test_serve import save_adapter
from test_stages import ROOT

from radis.core.io import write_table
from radis.core.schemas import GENERAL, TRANSLATION


@pytest.mark.slow
def test_bench_prints_times_sizes_and_equal_predictions(tmp_path, model_dir, world):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    write_table(world["parallel"], tmp_path / "fetch/translation.parquet", TRANSLATION)
    write_table(world["general"], tmp_path / "fetch/general.parquet", GENERAL)
    adapter = save_adapter(model_dir, tmp_path / "adapter")
    args = ["--model-dir", str(model_dir), "--adapter", str(adapter), "--data", "fetch"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench/serve.py"), *args, "--max-new-tokens", "2"]
        + ["--rounds", "1", "--threads", "1"],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "suite: 16 sentences + 12 general items, 2 new tokens" in out
    for choice in ("adapter", "merged, merging", "merged, reusing"):
        assert f"  {choice} " in out
    assert "identical predictions in every run: True" in out
    assert "merged copy  15.23 GB  (7.62 B parameters in bf16)" in out  # Qwen2.5-7B's count
    assert "40.4 M parameters at r=16" in out
