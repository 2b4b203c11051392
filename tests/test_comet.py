"""COMET and CometKiwi through the COMET environment, on tiny checkpoints the tests train."""

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import COMET_PYTHON
from stage_runner import run_stage

from radis.core.config import parse
from radis.core.io import RadisError, read_json, read_table, write_table
from radis.core.schemas import COMET, PREDICTION, TRANSLATION
from radis.evaluate import comet_worker
from radis.evaluate.comet import (
    CometConfig,
    comet_metrics,
    comet_scores,
    qe_scores,
    translation_segments,
)

ROOT = Path(__file__).resolve().parents[1]


def needs_env(test):
    """A test that runs COMET's own environment: slow, and skipped without it."""
    reason = ".venv-comet is absent: these tests need COMET's own environment (make comet-env)"
    return pytest.mark.slow(pytest.mark.skipif(not COMET_PYTHON.is_file(), reason=reason)(test))


ROWS = [  # id, direction, source, hypothesis, reference
    ("t0", "en-qa", "the cat sees the dog .", "vopa mirirak rian .", "vopa mirirak rian ."),
    ("t1", "en-qa", "the king holds the key .", "kami tumi .", "kami tumi riusrak lituka ."),
    ("t2", "en-qa", "the cat sees the dog .", "vopa mirirak rian .", "vopa mirirak rian ."),
    ("t3", "qa-en", "lituka nesel miri 7 ta .", "the red stone near 7 apples .", "the stone ."),
    ("t4", "qa-en", "nesel miri lituka .", "", "the green lamp ."),
]


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A prediction table (translation rows and one general row) and its translation table."""
    ids, dirs, sources, hyps, refs = map(list, zip(*ROWS))
    translation = pd.DataFrame(
        {
            "id": ids,
            "split": "test",
            "src_lang": [d.split("-")[0] for d in dirs],
            "tgt_lang": [d.split("-")[1] for d in dirs],
            "source": sources,
            "reference": refs,
        }
    )
    predictions = pd.DataFrame(
        {
            "id": ids + ["g0"],
            "task": ["translation"] * len(ids) + ["math"],
            "subtask": dirs + ["add"],
            "prompt": [f"Translate: {s}" for s in sources] + ["1+1?"],
            "output": hyps + ["2"],
            "hypothesis": hyps + ["2"],
            "reference": refs + ["2"],
            "score": [math.nan] * len(ids) + [1.0],
            "finish_reason": "stop",
        }
    )
    return predictions, translation


def config(model, **kw) -> CometConfig:
    return CometConfig(model=str(model), batch_size=2, python=str(COMET_PYTHON), **kw)


def stage(cwd, *args, env=None):
    """The comet stage in this process; COMET itself runs in its own interpreter, as always."""
    return run_stage(cwd, "stages.comet", *args, env=env)


def stage_workdir(path: Path, comet: dict) -> Path:
    predictions, translation = tables()
    (path / "params.yaml").write_text(yaml.safe_dump({"comet": comet, "methods": ["m"]}))
    write_table(predictions, path / "data/eval/m/predictions.parquet", PREDICTION)
    write_table(translation, path / "data/fetch/translation.parquet", TRANSLATION)
    return path


def test_translation_segments_join_the_source_and_keep_order():
    predictions, translation = tables()
    segments = translation_segments(predictions, translation.iloc[::-1])
    assert segments.id.tolist() == [r[0] for r in ROWS]
    assert segments.source.tolist() == [r[2] for r in ROWS]
    assert segments.direction.tolist() == [r[1] for r in ROWS]


def test_translation_segments_missing_source():
    predictions, translation = tables()
    with pytest.raises(RadisError, match=r"no source for prediction id\(s\) \['t4'\]"):
        translation_segments(predictions, translation.iloc[:4])


def test_metrics_per_direction_group_and_overall():
    segments = pd.DataFrame(
        {
            "direction": ["en-qa", "en-qa", "qa-en", "en-qb", "qb-en"],
            "comet": [0.5, 0.7, 0.8, 0.4, 0.9],
        }
    )
    m = comet_metrics(segments)
    assert m["mt.en-qa.comet"] == 60.0 and m["mt.qa-en.comet"] == 80.0
    assert m["mt.en-xx.comet"] == 50.0  # (60 + 40) / 2
    assert m["mt.xx-en.comet"] == 85.0  # (80 + 90) / 2
    assert m["mt.comet"] == 67.5  # mean over the four directions


def test_config_rejects_bad_params():
    with pytest.raises(RadisError, match=r"comet\.gpus: must be 0 \(CPU\) or 1, got 2"):
        parse(CometConfig, {"gpus": 2}, "params.yaml: comet")
    with pytest.raises(RadisError, match="batch_size: must be > 0"):
        parse(CometConfig, {"batch_size": 0}, "params.yaml: comet")


def test_missing_environment_is_one_clear_line(tmp_path):
    cfg = CometConfig(python=str(tmp_path / "nope" / "bin" / "python"))
    with pytest.raises(
        RadisError, match="COMET environment not found; create it with `make comet-env`"
    ):
        qe_scores(["a"], ["b"], cfg)


def test_stage_missing_environment(tmp_path):
    workdir = stage_workdir(tmp_path, {"python": "missing/bin/python"})
    result = stage(workdir, "m")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: missing/bin/python: COMET environment not found; create it with `make comet-env`"
    ]
    assert not (workdir / "data/comet").exists()


@needs_env
def test_stage_writes_segment_scores_and_metrics(tiny_comet, tmp_path):
    comet = {"model": str(tiny_comet / "da"), "batch_size": 2, "python": str(COMET_PYTHON)}
    workdir = stage_workdir(tmp_path, comet)
    result = stage(workdir, "m")
    assert result.returncode == 0, result.stderr
    segments = read_table(workdir / "data/comet/m.parquet", COMET)
    assert segments.id.tolist() == [r[0] for r in ROWS]  # translation rows only, in order
    assert segments.comet.dtype == "float64" and segments.comet.notna().all()
    assert segments.comet[0] == pytest.approx(segments.comet[2], abs=1e-6)  # same triplet
    assert segments.comet.nunique() > 1  # the scores depend on the input
    assert read_json(workdir / "data/comet/m.commits.json") == {}  # a local checkpoint
    metrics = read_json(workdir / "metrics/eval/m/comet.json")
    assert metrics == comet_metrics(segments)
    assert set(metrics) == {
        "mt.en-qa.comet",
        "mt.qa-en.comet",
        "mt.en-xx.comet",
        "mt.xx-en.comet",
        "mt.comet",
    }
    # The library call on the same inputs gives the same scores; the system score is the mean.
    direct = comet_scores(
        segments.source.tolist(),
        segments.hypothesis.tolist(),
        config(tiny_comet / "da"),
        segments.reference.tolist(),
    )
    assert direct.segments == segments.comet.tolist()
    assert direct.system == pytest.approx(sum(direct.segments) / len(direct.segments))


@needs_env
def test_qe_without_references(tiny_comet, capsys):
    sources = [r[2] for r in ROWS]
    translations = [r[3] for r in ROWS]
    scores = qe_scores(sources, translations, config(tiny_comet / "kiwi"))
    shown = capsys.readouterr().err.splitlines()  # COMET's own bar, a line per 5 % in a log
    assert shown and all(line.startswith("Predicting") for line in shown), shown
    batches = math.ceil(len(ROWS) / 2)  # config's batch_size
    assert f"100%|██████████| {batches}/{batches} [" in shown[-1] and len(shown) <= 22
    assert len(scores) == len(ROWS) and all(isinstance(s, float) for s in scores)
    assert scores[0] == pytest.approx(scores[2], abs=1e-6)
    assert len(set(scores)) > 1


@needs_env
def test_qe_with_a_reference_model_is_one_clear_line(tiny_comet):
    with pytest.raises(RadisError) as err:
        qe_scores(
            ["the cat ."], ["vopa ."], config(tiny_comet / "da" / "checkpoints" / "model.ckpt")
        )
    assert "needs references; quality estimation needs a reference-free model" in str(err.value)
    assert "\n" not in str(err.value)


@needs_env
@pytest.mark.parametrize(
    "no_hub",
    [
        {"HF_HUB_OFFLINE": "1"},  # offline mode: huggingface_hub's LocalEntryNotFoundError
        {"HTTPS_PROXY": "http://127.0.0.1:9"},  # no network: a refused connection (loopback)
    ],
    ids=["offline-mode", "no-network"],
)
def test_hub_id_without_network_names_the_real_cause(no_hub, tmp_path, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in no_hub.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.setenv("HOME", str(tmp_path))  # COMET's legacy cache folder
    with pytest.raises(RadisError) as err:
        comet_scores(["a"], ["b"], config("Unbabel/wmt22-comet-da"), ["c"])
    message = str(err.value)
    assert "\n" not in message and "not supported" not in message
    assert message.startswith("COMET model 'Unbabel/wmt22-comet-da' is not in the local")
    assert "no network (or offline mode, HF_HUB_OFFLINE)" in message
    assert "use a local checkpoint" in message


@needs_env
def test_stage_records_the_hub_commit_of_a_cached_model(tiny_comet, tmp_path):
    """A hub id is read from the hub cache's snapshot folder, whose name is the commit."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf" / "hub" / "models--Unbabel--wmt22-comet-da"
    shutil.copytree(tiny_comet / "da", repo / "snapshots" / sha)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    model = "Unbabel/wmt22-comet-da"
    (tmp_path / "work").mkdir()
    workdir = stage_workdir(tmp_path / "work", {"model": model, "python": str(COMET_PYTHON)})
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    result = stage(workdir, "m", env=env)
    assert result.returncode == 0, result.stderr
    assert read_json(workdir / "data/comet/m.commits.json") == {f"commit.{model}": sha}
    local = read_table(workdir / "data/comet/m.parquet", COMET)
    direct = comet_scores(
        local.source.tolist(),
        local.hypothesis.tolist(),
        config(tiny_comet / "da"),
        local.reference.tolist(),
    )
    assert local.comet.tolist() == pytest.approx(direct.segments)  # the same checkpoint


@pytest.mark.parametrize(
    "path, commit",
    [
        ("/h/models--U--m/snapshots/" + "ab" * 20 + "/checkpoints/model.ckpt", "ab" * 20),
        ("/h/models--U--m/snapshots/main/checkpoints/model.ckpt", None),
        ("/work/comet/checkpoints/model.ckpt", None),
    ],
)
def test_snapshot_commit(path, commit):
    assert comet_worker.snapshot_commit(path) == commit


def test_model_folder_without_checkpoint(tmp_path):
    with pytest.raises(RadisError, match="COMET model folder without checkpoints/model.ckpt"):
        qe_scores(["a"], ["b"], config(tmp_path))


def test_missing_checkpoint_path(tmp_path):
    with pytest.raises(RadisError, match="model.ckpt: COMET checkpoint not found"):
        qe_scores(["a"], ["b"], config(tmp_path / "model.ckpt"))
