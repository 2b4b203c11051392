"""The hub source of fetch, run against the hub mirror in ../shared/data/hub (offline)."""

import json
import shutil
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from stage_runner import run_stage

from radis.core.config import parse
from radis.core.io import RadisError
from radis.data.fetch import FetchConfig, fetch_hub

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HUB = SHARED / "hub"
RAW = SHARED / "raw"

pytestmark = pytest.mark.skipif(
    not HUB.is_dir(), reason=f"{HUB} absent: the hub mirror lives beside the checkout, not in it"
)


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    """Keep the Arrow cache that load_dataset builds from mirror folders out of ~/.cache."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def local_params(mirror) -> dict:
    """Params ``fetch`` for the mirror; the sets without a hub-layout copy read local files."""
    return {
        "source": "hub",
        "mirror": str(mirror),
        "hub": {
            "dolly": {
                "id": "databricks/databricks-dolly-15k",
                "local": str(RAW / "alpaca-format/dolly_train.json"),
            },
            "alpaca_eval": {
                "id": "tatsu-lab/alpaca_eval",
                "local": str(RAW / "alpaca-format/alpaca_eval.json"),
                "columns": {"generator": None, "dataset": None},
            },
            "cocoa": {"local": str(RAW / "cocoa-mt/en-de"), "domains": ["telephony"]},
        },
    }


def config(data: dict) -> FetchConfig:
    return parse(FetchConfig, data, "params.yaml: fetch")


def pairs(repo: str, config: str, split: str, root: Path = HUB) -> list[dict]:
    return pq.read_table(next((root / repo / config).glob(f"{split}-*.parquet")))[
        "translation"
    ].to_pylist()


@pytest.fixture(scope="module")
def fetched():
    return fetch_hub(config(local_params(HUB)), ["cs", "de"])


def test_row_counts(fetched):
    tables, counts = fetched
    mt = tables["translation"]
    sizes = mt.groupby(["split", "src_lang", "tgt_lang"]).size().to_dict()
    for x in ("cs", "de"):  # 400 train and 100 validation pairs per config, both directions
        assert sizes[("train", x, "en")] == sizes[("train", "en", x)] == 400
        assert sizes[("valid", x, "en")] == sizes[("valid", "en", x)] == 100
        assert sizes[("test", x, "en")] == sizes[("test", "en", x)] == 150  # one config each
    assert len(mt) == 1600 + 400 + 600 and mt.id.is_unique
    assert counts["translation.train"] == 1600 and counts["translation.test"] == 600
    assert len(tables["instructions"]) == counts["instructions"] == 400
    assert tables["instructions"].id.str.startswith("alpaca-").sum() == 200
    for name in ("gsm8k", "advbench", "alpaca_eval", "cocoa"):
        assert len(tables[name]) == counts[name] == 200
    assert counts["dropped_empty"] == 0


def test_both_directions_swap_source_and_reference(fetched):
    mt = fetched[0]["translation"].set_index("id")
    for i, pair in enumerate(pairs("haoranxu/ALMA-Human-Parallel", "de-en", "train")):
        forward, backward = mt.loc[f"train-de-en-{i:06d}"], mt.loc[f"train-en-de-{i:06d}"]
        assert (forward.source, forward.reference) == (pair["de"].strip(), pair["en"].strip())
        assert (backward.source, backward.reference) == (pair["en"].strip(), pair["de"].strip())


def test_wmt22_one_config_per_direction(fetched):
    mt = fetched[0]["translation"]
    for src, tgt in (("cs", "en"), ("en", "cs"), ("de", "en"), ("en", "de")):
        rows = mt[(mt.split == "test") & (mt.src_lang == src) & (mt.tgt_lang == tgt)]
        expected = pairs("haoranxu/WMT22-Test", f"{src}-{tgt}", "test")
        assert rows.source.tolist() == [p[src].strip() for p in expected]
        assert rows.reference.tolist() == [p[tgt].strip() for p in expected]


def test_only_the_languages_asked_for():
    data = local_params(HUB)
    data["hub"] |= {k: None for k in ("alpaca", "dolly", "gsm8k", "advbench", "alpaca_eval")}
    tables, counts = fetch_hub(config(data), ["de"])
    mt = tables["translation"]
    assert set(zip(mt.src_lang, mt.tgt_lang)) == {("de", "en"), ("en", "de")}
    assert set(tables) == {"translation", "general", "cocoa", "parallel"}
    assert "instructions.alpaca" not in counts


def test_instruction_prompt_joins_a_non_empty_input(fetched):
    inst = fetched[0]["instructions"].set_index("id")
    rows = json.loads((RAW / "alpaca-format/dolly_train.json").read_text())
    with_input = next(i for i, r in enumerate(rows) if r["input"].strip())
    without = next(i for i, r in enumerate(rows) if not r["input"].strip())
    row = inst.loc[f"dolly-{with_input:06d}"]
    r = rows[with_input]
    assert row.prompt == r["instruction"].strip() + "\n\n" + r["input"].strip()
    assert row.completion == rows[with_input]["output"].strip()
    assert inst.loc[f"dolly-{without:06d}"].prompt == rows[without]["instruction"].strip()


def test_cocoa_lines_stay_aligned(fetched):
    cocoa = fetched[0]["cocoa"].set_index("id")
    folder = RAW / "cocoa-mt/en-de"
    stem = "formality-control.test.telephony.en-de"
    lines = {
        s: (folder / f"{stem}{s}").read_text().splitlines() for s in ("", ".formal", ".informal")
    }
    row = cocoa.loc["cocoa-telephony-00123"]
    assert (row.source, row.formal, row.informal) == tuple(lines[s][123].strip() for s in lines)
    assert (row.src_lang, row.tgt_lang, row.domain) == ("en", "de", "telephony")
    for condition in ("formal", "informal"):  # the scorer's annotated copies, line by line
        annotated = (folder / f"{stem}.{condition}.annotated").read_text().splitlines()
        assert cocoa[f"{condition}_annotated"].tolist() == [a.strip() for a in annotated]
        assert "[F]" in row[f"{condition}_annotated"]


def test_cocoa_annotated_file_out_of_line_is_one_line(tmp_path):
    folder = tmp_path / "cocoa"
    shutil.copytree(RAW / "cocoa-mt/en-de", folder)
    short = folder / "formality-control.test.telephony.en-de.informal.annotated"
    short.write_text("\n".join(short.read_text().splitlines()[:-1]) + "\n")
    data = local_params(HUB)
    data["hub"]["cocoa"] = {"local": str(folder), "domains": ["telephony"]}
    message = one_line_error(data, ["de"])
    assert message.startswith("params.yaml: fetch.hub.cocoa: ")
    assert "'formality-control.test.telephony.en-de.informal.annotated': 199" in message


def test_gsm8k_train_split_is_fetched_for_few_shot(tmp_path):
    """GSM8K's train split (the few-shot pool) in a copy of the mirror, which has only test."""
    mirror = tmp_path / "mirror"
    shutil.copytree(HUB, mirror)
    gsm = mirror / "openai/gsm8k"
    train = [{"question": f"Train {k}?", "answer": f"{k} + 0 = {k}\n#### {k}"} for k in range(3)]
    write_parquet(gsm / "main/train-00000-of-00001.parquet", train)
    readme = (gsm / "README.md").read_text()
    (gsm / "README.md").write_text(
        readme.replace(
            "    path: main/test-*",
            "    path: main/test-*\n  - split: train\n    path: main/train-*",
        )
    )
    data = local_params(mirror)
    data["hub"]["gsm8k_train"] = {"id": "openai/gsm8k", "config": "main", "split": "train"}
    tables, counts = fetch_hub(config(data), ["de"])
    assert tables["gsm8k_train"][["question", "answer"]].to_dict("records") == train
    assert counts["gsm8k_train"] == 3 and counts["gsm8k"] == 200
    assert not set(tables["gsm8k"].question) & set(tables["gsm8k_train"].question)


def write_parquet(path: Path, rows: list[dict]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.fixture
def blank_mirror(tmp_path):
    """A copy of the mirror with blank texts in ALMA cs-en train, GSM8K and Alpaca."""
    mirror = tmp_path / "mirror"
    shutil.copytree(HUB, mirror)
    alma = next((mirror / "haoranxu/ALMA-Human-Parallel/cs-en").glob("train-*.parquet"))
    rows = pq.read_table(alma).to_pylist()
    rows[3]["translation"]["cs"] = "  \n"
    rows[7]["translation"]["en"] = None
    write_parquet(alma, rows)
    gsm = next((mirror / "openai/gsm8k/main").glob("test-*.parquet"))
    rows = pq.read_table(gsm).to_pylist()
    rows[0]["question"] = ""
    write_parquet(gsm, rows)
    alpaca = next((mirror / "tatsu-lab/alpaca/data").glob("train-*.parquet"))
    rows = pq.read_table(alpaca).to_pylist()
    rows[1]["output"] = " "
    rows[2]["input"] = "   "  # a blank input is no reason to drop
    write_parquet(alpaca, rows)
    return mirror


def test_empty_texts_are_dropped_and_counted(blank_mirror):
    tables, counts = fetch_hub(config(local_params(blank_mirror)), ["cs", "de"])
    assert counts["dropped_empty.translation.train"] == 4  # two pairs, both directions
    assert counts["translation.train"] == 1596
    assert counts["dropped_empty.gsm8k"] == 1 and counts["gsm8k"] == 199
    assert counts["dropped_empty.instructions.alpaca"] == 1
    assert counts["dropped_empty"] == 6
    ids = set(tables["translation"].id)
    assert not {f"train-{d}-000003" for d in ("cs-en", "en-cs")} & ids
    assert not {f"train-{d}-000007" for d in ("cs-en", "en-cs")} & ids
    kept = tables["translation"].set_index("id").loc["train-cs-en-000004"]
    expected = pairs("haoranxu/ALMA-Human-Parallel", "cs-en", "train", blank_mirror)[4]
    assert kept.source == expected["cs"].strip()  # ids keep the source row number
    inst = tables["instructions"].set_index("id")
    assert "alpaca-000001" not in inst.index
    assert "\n" not in inst.loc["alpaca-000002"].prompt


def test_dolly_hub_columns_are_mapped(tmp_path):
    """On the hub, Dolly has context/response: the default spec maps them to input/output."""
    mirror = tmp_path / "mirror"
    shutil.copytree(HUB, mirror)
    dolly = mirror / "databricks/databricks-dolly-15k"
    dolly.mkdir(parents=True)
    rows = [
        {
            "instruction": "Sum up.",
            "context": "A long text.",
            "response": "Short.",
            "category": "x",
        },
        {"instruction": "Say hi.", "context": "", "response": "Hi.", "category": "y"},
    ]
    (dolly / "data.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = local_params(mirror)
    del data["hub"]["dolly"]
    inst = fetch_hub(config(data), ["cs"])[0]["instructions"].set_index("id")
    assert inst.loc["dolly-000000"].tolist() == ["Sum up.\n\nA long text.", "Short."]
    assert inst.loc["dolly-000001"].tolist() == ["Say hi.", "Hi."]


class FakeLoad:
    """Stands in for datasets.load_dataset: records each call, returns a tiny split."""

    def __init__(self):
        self.calls = []

    def __call__(self, path, name=None, split=None, **kwargs):
        self.calls.append((path, name, split, kwargs))
        if name and "-" in name:
            a, b = name.split("-")
            return datasets.Dataset.from_list([{"translation": {a: f"{a} text", b: f"{b} text"}}])
        return datasets.Dataset.from_list(
            [{"instruction": "i", "input": "", "output": "o", "question": "q", "answer": "a"}]
        )


def test_revisions_are_passed_to_the_hub_and_ignored_for_a_mirror(monkeypatch):
    fake = FakeLoad()
    monkeypatch.setattr(datasets, "load_dataset", fake)
    sha = "0123abc" + "0" * 33  # a full commit sha: used as it is, no call to the hub
    pinned = {"revision": sha}
    hub = {
        "train": {"id": "haoranxu/ALMA-Human-Parallel", "split": "train", "both_directions": True}
        | pinned,
        "valid": None,
        "test": {"id": "haoranxu/WMT22-Test", "split": "test"} | pinned,
        "alpaca": {"id": "tatsu-lab/alpaca"} | pinned,
        "dolly": None,
        "gsm8k": {"id": "openai/gsm8k", "config": "main", "split": "test"} | pinned,
        "advbench": None,
        "alpaca_eval": None,
        "cocoa": None,
    }
    tables, counts = fetch_hub(config({"source": "hub", "hub": hub}), ["cs", "ru"])
    assert {c[0] for c in fake.calls} == {
        "haoranxu/ALMA-Human-Parallel",
        "haoranxu/WMT22-Test",
        "tatsu-lab/alpaca",
        "openai/gsm8k",
    }
    assert all(c[3] == {"revision": sha} for c in fake.calls)
    assert {k: v for k, v in counts.items() if k.startswith("commit.")} == {
        f"commit.{repo}": sha for repo in {c[0] for c in fake.calls}
    }
    configs = [c[1] for c in fake.calls if c[0] == "haoranxu/WMT22-Test"]
    assert configs == ["cs-en", "en-cs", "ru-en", "en-ru"]  # from base.languages, not the mirror
    assert len(tables["translation"]) == 4 * 1 + 4 * 1

    fake.calls.clear()
    fetch_hub(config({"source": "hub", "hub": hub, "mirror": str(HUB)}), ["cs"])
    assert fake.calls and all(c[3] == {} for c in fake.calls)
    assert all(c[0].startswith(str(HUB)) for c in fake.calls)


def test_repo_files_and_cocoa_take_the_revision(monkeypatch, tmp_path):
    import huggingface_hub

    import radis.data.hub

    downloads, urls = [], []
    eval_file = tmp_path / "alpaca_eval.json"
    record = {"instruction": "i", "output": "o", "generator": "g", "dataset": "d"}
    eval_file.write_text(json.dumps([record]))

    def download(repo_id, filename, **kwargs):
        downloads.append((repo_id, filename, kwargs))
        return str(eval_file)

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b"line one\nline two\n"

    def urlopen(url, timeout):
        urls.append(url)
        return Response()

    monkeypatch.setattr(datasets, "load_dataset", FakeLoad())
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(radis.data.hub, "urlopen", urlopen)
    resolved = []

    def repo_info(self, repo_id, revision, repo_type):
        resolved.append((repo_id, revision, repo_type))
        return type("Info", (), {"sha": "f" * 40})()

    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", repo_info)
    hub = {k: None for k in ("valid", "alpaca", "dolly", "gsm8k", "advbench")} | {
        "alpaca_eval": {
            "id": "tatsu-lab/alpaca_eval",
            "file": "alpaca_eval.json",
            "revision": "v1",
        },
        "cocoa": {"revision": "937ad6a", "domains": ["telephony"]},
    }
    tables, counts = fetch_hub(config({"source": "hub", "hub": hub}), ["de"])
    assert ("tatsu-lab/alpaca_eval", "v1", "dataset") in resolved  # the tag, resolved
    assert downloads == [
        (
            "tatsu-lab/alpaca_eval",
            "alpaca_eval.json",
            {"repo_type": "dataset", "revision": "f" * 40},
        )
    ]
    assert counts["commit.tatsu-lab/alpaca_eval"] == "f" * 40
    assert tables["alpaca_eval"].iloc[0].drop("id").to_dict() == record
    base = "https://raw.githubusercontent.com/amazon-science/contrastive-controlled-mt/937ad6a"
    stem = f"{base}/CoCoA-MT/test/en-de/formality-control.test.telephony.en-de"
    suffixes = ["", ".formal", ".informal", ".formal.annotated", ".informal.annotated"]
    assert urls == [stem + s for s in suffixes]
    assert tables["cocoa"].source.tolist() == ["line one", "line two"]


def one_line_error(data: dict, languages=("cs", "de")) -> str:
    with pytest.raises(RadisError) as err:
        fetch_hub(config(data), list(languages))
    message = str(err.value)
    assert "\n" not in message
    return message


def test_config_missing_from_the_dataset_is_one_line():
    message = one_line_error(local_params(HUB), ["cs", "ru"])  # the real hub has ru-en
    assert message.startswith("params.yaml: fetch.hub.train: haoranxu/ALMA-Human-Parallel")
    assert "'ru-en'" in message


def test_missing_mirror_folder_is_one_line(tmp_path):
    message = one_line_error(local_params(tmp_path / "nowhere"))
    assert "haoranxu/ALMA-Human-Parallel" in message and "fetch.mirror" in message


def test_missing_column_is_one_line():
    data = local_params(HUB)
    data["hub"]["gsm8k"] = {"id": "openai/gsm8k", "config": "main", "split": "test"}
    data["hub"]["gsm8k"]["columns"] = {"question": "problem"}
    message = one_line_error(data)
    assert message.startswith("params.yaml: fetch.hub.gsm8k: openai/gsm8k: missing column")
    assert "'problem'" in message


def test_unknown_param_is_one_line():
    data = local_params(HUB)
    data["hub"]["test"] = {"id": "haoranxu/WMT22-Test", "split": "test", "config": "cs-en"}
    with pytest.raises(RadisError, match=r"fetch\.hub\.test: unknown field\(s\) \['config'\]"):
        config(data)


def test_stage_reports_a_bad_config_in_one_line(tmp_path):
    data = local_params(HUB)
    data["hub"]["train"] = {
        "id": "haoranxu/ALMA-Human-Parallel",
        "split": "train",
        "configs": ["cs-en", "is-en"],
        "both_directions": True,
    }
    params = {"base": {"languages": ["cs"]}, "fetch": data}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = run_stage(tmp_path, "stages.fetch")  # the datasets cache: _datasets_cache
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: params.yaml: fetch.hub.train: haoranxu/ALMA-Human-Parallel")
    assert "'is-en'" in last and "Traceback" not in result.stderr
    assert not (tmp_path / "data/fetch").exists()
