"""Outputs that DVC caches are byte-stable and say which hub commit they came from."""

import hashlib
import json
import time
from pathlib import Path

import datasets
import huggingface_hub
import pandas as pd
import pytest

from radis.core.io import RadisError
from radis.data import hub
from radis.data.backbone import download

SHA = "0123456789abcdef0123456789abcdef01234567"


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def fake_hub(monkeypatch):
    """A hub whose `main` is SHA and whose snapshots leave timestamped metadata, as the real one."""
    calls = []

    def repo_info(self, repo_id, revision=None, repo_type=None):
        calls.append(("resolve", repo_id, revision, repo_type))
        return type("Info", (), {"sha": SHA})()

    def snapshot_download(repo_id, revision, local_dir, allow_patterns):
        calls.append(("download", repo_id, revision))
        out = Path(local_dir)
        (out / ".cache/huggingface/download").mkdir(parents=True)
        (out / ".cache/huggingface/download/config.json.metadata").write_text(f"{time.time()}\n")
        (out / "config.json").write_text('{"model_type": "qwen2"}')
        (out / "model.safetensors").write_bytes(b"weights")
        return str(out)

    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", repo_info)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return calls


def test_hub_backbone_is_the_resolved_commit_without_local_metadata(fake_hub, tmp_path):
    download("org/chat", "main", tmp_path / "a")
    assert fake_hub == [("resolve", "org/chat", "main", "model"), ("download", "org/chat", SHA)]
    assert not (tmp_path / "a/.cache").exists()
    source = json.loads((tmp_path / "a/source.json").read_text())
    assert source == {"repo_id": "org/chat", "revision": "main", "commit": SHA}
    download("org/chat", "main", tmp_path / "b")  # another machine, another clock
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_a_commit_sha_is_downloaded_without_asking_the_hub(fake_hub, tmp_path):
    download("org/chat", SHA, tmp_path / "a")
    assert fake_hub == [("download", "org/chat", SHA)]


def test_local_backbone_folder_is_copied_without_metadata(tmp_path):
    src = tmp_path / "mine"
    (src / ".cache/huggingface").mkdir(parents=True)
    (src / ".cache/huggingface/x.metadata").write_text(str(time.time()))
    (src / "config.json").write_text("{}")
    download(str(src), "main", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json"]


def test_hub_datasets_are_read_at_their_commit_and_recorded(monkeypatch):
    loads = []

    def load_dataset(path, config=None, split=None, **kwargs):
        loads.append((path, kwargs))
        return datasets.Dataset.from_pandas(pd.DataFrame({"text": ["a"]}))

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.setattr(
        huggingface_hub.HfApi, "repo_info", lambda self, r, revision, repo_type: _info(r)
    )
    hub.COMMITS.clear()
    assert hub.load_split("org/data", None, "train", "main", None, "w").text.tolist() == ["a"]
    assert hub.load_split("org/pinned", None, "train", SHA, None, "w").text.tolist() == ["a"]
    assert loads == [
        ("org/data", {"revision": _info("org/data").sha}),
        ("org/pinned", {"revision": SHA}),
    ]
    assert hub.COMMITS == {"org/data": _info("org/data").sha, "org/pinned": SHA}


def test_unresolvable_revision_is_one_line(monkeypatch):
    def offline(self, *args, **kwargs):
        raise OSError("offline mode is enabled\nmore")

    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", offline)
    with pytest.raises(RadisError, match=r"^w: org/data: cannot resolve revision 'main'.*sha$"):
        hub.load_split("org/data", None, "train", "main", None, "w")


def _info(repo):
    return type("Info", (), {"sha": hashlib.sha1(repo.encode()).hexdigest()})()


def test_multilingual_datasets_are_read_at_their_commit(monkeypatch, tmp_path):
    from radis.evaluate.multilingual import BenchData, load_rows
    from radis.evaluate.multilingual_tasks import write_belebele

    loads = []

    def load_dataset(path, name=None, split=None, **kwargs):
        loads.append((path, kwargs["revision"]))
        return datasets.Dataset.from_pandas(pd.DataFrame({"text": ["a"]}))

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.setattr(
        huggingface_hub.HfApi, "repo_info", lambda self, r, revision, repo_type: _info(r)
    )
    hub.COMMITS.clear()
    load_rows(BenchData(id="org/flores"), "deu_Latn", None)
    assert loads == [("org/flores", _info("org/flores").sha)]
    write_belebele(tmp_path, "deu_Latn", BenchData(id="facebook/belebele"), None)
    task = (tmp_path / "belebele_deu_Latn.yaml").read_text()
    assert f"revision: {_info('facebook/belebele').sha}" in task
    assert set(hub.COMMITS) == {"org/flores", "facebook/belebele"}


def test_a_model_loaded_by_hub_id_records_its_commit(monkeypatch, tmp_path):
    from radis.generate.backend import resolve_model

    snapshot = tmp_path / "models--org--judge/snapshots" / SHA
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, name: str(snapshot / name))
    hub.COMMITS.clear()
    assert resolve_model("org/judge") == "org/judge"
    assert hub.commit_metrics() == {"commit.org/judge": SHA}
    hub.write_commits(tmp_path)
    assert json.loads((tmp_path / "commits.json").read_text()) == {"commit.org/judge": SHA}
