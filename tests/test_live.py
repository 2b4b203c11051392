"""The training log through DVCLive, and progress while training; the model never depends on it."""

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from radis.train.live import METRICS, live_log, read_log
from radis.train.loop import TrainConfig
from radis.train.lora import train_lora

ROOT = Path(__file__).resolve().parents[1]


def test_dvclive_logs_every_step_as_it_goes_and_the_adapter_does_not_depend_on_it(
    model_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # no DVC repository around: DVCLive only writes its folder
    rows = pd.DataFrame(
        {"prompt": [f"Repeat the word 'cat' {i} times." for i in range(10)], "completion": "cat"}
    ).assign(masked_suffix="", group="")
    cfg = TrainConfig(
        lora={"r": 4, "lora_alpha": 8, "lora_dropout": 0.1, "target_modules": "all-linear"},
        learning_rate=1.0e-2,
        epochs=3,
        batch_size=4,
        micro_batch_size=2,
    )
    seen = []
    with live_log(tmp_path / "live") as on_log:

        def check(record):  # each step is on disk before the next one starts
            on_log(record)
            seen.append(len(pd.read_csv(tmp_path / "live/plots/metrics/loss.tsv", sep="\t")))

        log = train_lora(model_dir, rows, cfg, tmp_path / "logged", on_log=check)
    quiet = train_lora(model_dir, rows, cfg, tmp_path / "quiet", show_progress=False)

    assert len(log) == 9 and seen == list(range(1, 10))  # 3 epochs of 3 steps (4, 4, 2 rows)
    table = read_log(tmp_path / "live")
    assert table.step.tolist() == list(range(1, 10))
    assert sorted(table.columns) == sorted(["step", *METRICS])
    for name in ("loss", "lr", "tokens_per_s"):
        assert table[name].tolist() == pytest.approx([r[name] for r in log], rel=1e-9)
    assert (table.tokens_per_s > 0).all() and table.lr.iloc[-1] < table.lr.max()
    summary = json.loads((tmp_path / "live/metrics.json").read_text())
    assert summary["step"] == 9 and summary["loss"] == log[-1]["loss"]
    names = sorted(
        p.relative_to(tmp_path / "live").as_posix() for p in (tmp_path / "live").rglob("*")
    )
    assert names == ["metrics.json", "plots", "plots/metrics"] + [
        f"plots/metrics/{m}.tsv" for m in sorted(METRICS)
    ]  # no dvc.yaml, report or timestamp of DVCLive's own
    assert "timestamp" not in (tmp_path / "live/plots/metrics/loss.tsv").read_text()

    assert [r["loss"] for r in quiet] == [r["loss"] for r in log]

    def files(root):  # the adapter and each epoch's (epochs/<k>/)
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert files(tmp_path / "logged") == files(tmp_path / "quiet")

    bars = [line for line in capsys.readouterr().err.splitlines() if line.startswith("train:")]
    assert 1 <= len(bars) <= 10  # one run shown (the quiet one is not), a line per step at most
    meter = r"train: 100% 9/9 \[.*(step/s|s/step), loss [\d.]+, lr [\d.e-]+, [\d,]+ tok/s\]$"
    assert re.match(meter, bars[-1]), bars


def test_a_run_that_trains_nothing_leaves_an_empty_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with live_log(tmp_path / "live"):
        pass
    assert json.loads((tmp_path / "live/metrics.json").read_text()) == {}
    assert read_log(tmp_path / "live").empty
    for name in METRICS:  # header-only files: an empty folder would not be kept by git
        assert (tmp_path / f"live/plots/metrics/{name}.tsv").read_text() == f"step\t{name}\n"


def test_a_git_repository_without_a_commit_is_no_obstacle(tmp_path, monkeypatch):
    # DVCLive 3.49 alone fails there ("Empty git repo"): a new project's first `dvc repro`
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    with live_log(tmp_path / "live") as on_log:
        on_log(dict.fromkeys(METRICS, 1.0) | {"step": 1})
    assert read_log(tmp_path / "live").step.tolist() == [1]


def test_dvc_yaml_declares_the_logs_and_overlays_every_methods_loss():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    train = dvc["stages"]["train"]["do"]
    assert train["metrics"] == [{"metrics/train/${item}/metrics.json": {"cache": False}}]
    assert train["plots"] == [
        {"metrics/train/${item}/plots/metrics": {"cache": False, "x": "step"}}
    ]
    (loss,) = [p["training-loss"] for p in dvc["plots"] if isinstance(p, dict)]
    methods = yaml.safe_load((ROOT / "params.yaml").read_text())["methods"]
    assert loss["x"] == "step" and loss["y"] == {
        f"metrics/train/{m}/plots/metrics/loss.tsv": "loss" for m in methods
    }
    assert "metrics/figure1.png" in dvc["plots"]
