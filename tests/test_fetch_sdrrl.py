"""SDRRL's fetched data: Opus-100 pairs for D_mt/D_comp and MUSE's bilingual dictionaries.

Every test builds its own tiny mirror in the hub's layout (offline).
"""

import io
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from test_stages import run_stage

from radis.core.config import parse
from radis.core.io import RadisError, read_json, read_table
from radis.core.schemas import TRANSLATION
from radis.data import hub
from radis.data.fetch import FetchConfig, fetch, fetch_dictionaries, fetch_hub, fetch_toy
from radis.data.hub import MUSE_MIRROR, DictionarySpec, dictionary_texts
from radis.sdrrl.codeswitch import read_dictionaries

ROOT = Path(__file__).resolve().parents[1]
OPUS = "Helsinki-NLP/opus-100"
#: Opus-100's config names: the two codes in alphabetical order.
OPUS_CONFIGS = {"de": "de-en", "ja": "en-ja"}
ROWS = 40


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def write_repo(root: Path, repo: str, configs: dict[str, dict[str, list[dict]]]) -> None:
    """A hub dataset repository: a folder and Parquet file per config and split, and a README
    whose YAML lists them (the layout ``datasets.load_dataset`` reads)."""
    entries = []
    for config, splits in configs.items():
        files = []
        for split, rows in splits.items():
            path = root / repo / config / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows), path)
            files.append({"split": split, "path": f"{config}/{split}-*"})
        entries.append({"config_name": config, "data_files": files})
    card = "---\n" + yaml.safe_dump({"configs": entries}, sort_keys=False) + "---\n"
    (root / repo / "README.md").write_text(card)


def opus_pair(lang: str, i: int) -> dict:
    return {"translation": {"en": f"English sentence {i}.", lang: f"{lang} Satz {i}."}}


@pytest.fixture
def mirror(tmp_path):
    """Tiny ALMA/WMT22 stand-ins for the translation table and a tiny Opus-100 (de, ja), with
    blank pairs at rows 3 (German) and 5 (English of ja)."""
    root = tmp_path / "mirror"
    pairs = {
        x: [{"translation": {x: f"{x} {k}", "en": f"en {k}"}} for k in range(4)]
        for x in "de ja".split()
    }
    write_repo(root, "tiny/alma", {f"{x}-en": {"train": rows} for x, rows in pairs.items()})
    write_repo(
        root,
        "tiny/wmt",
        {c: {"test": pairs[x]} for x in pairs for c in (f"{x}-en", f"en-{x}")},
    )
    opus = {x: [opus_pair(x, i) for i in range(ROWS)] for x in OPUS_CONFIGS}
    opus["de"][3]["translation"]["de"] = "  "
    opus["ja"][5]["translation"]["en"] = None
    write_repo(root, OPUS, {OPUS_CONFIGS[x]: {"train": rows} for x, rows in opus.items()})
    return root


def params(mirror: Path, **hub_specs) -> dict:
    none = dict.fromkeys(["valid", "alpaca", "dolly", "gsm8k", "advbench", "alpaca_eval", "cocoa"])
    specs = {
        "train": {"id": "tiny/alma", "split": "train", "both_directions": True},
        "test": {"id": "tiny/wmt", "split": "test"},
    }
    return {"source": "hub", "mirror": str(mirror), "hub": none | specs | hub_specs}


def config(data: dict) -> FetchConfig:
    return parse(FetchConfig, data, "params.yaml: fetch")


def test_opus_pairs_sampled_per_language_english_first(mirror):
    data = params(mirror, parallel={"id": OPUS, "pairs": 10})
    tables, counts = fetch_hub(config(data), ["de", "ja"], seed=0)
    par = tables["parallel"]
    assert par.groupby("tgt_lang").size().to_dict() == {"de": 10, "ja": 10}
    assert set(par.src_lang) == {"en"} and set(par.split) == {"train"}
    assert counts["parallel"] == 20 and counts["dropped_empty.parallel"] == 2
    for row in par.itertuples():  # en-ja and de-en alike: English is the source
        number = int(row.id.rsplit("-", 1)[1])
        assert row.id == f"parallel-en-{row.tgt_lang}-{number:07d}"
        assert (row.source, row.reference) == (
            f"English sentence {number}.",
            f"{row.tgt_lang} Satz {number}.",
        )
    assert "parallel-en-de-0000003" not in set(par.id)  # blank pairs are never drawn
    assert "parallel-en-ja-0000005" not in set(par.id)
    again = fetch_hub(config(data), ["ja", "de"], seed=0)[0]["parallel"]
    assert sorted(again.id) == sorted(par.id)  # seeded per language, not by order
    other = fetch_hub(config(data), ["de", "ja"], seed=1)[0]["parallel"]
    assert set(other.id) != set(par.id)
    assert tables["translation"].id.str.startswith(("train-", "test-")).all()  # apart


def test_opus_all_pairs_and_too_few_pairs(mirror):
    tables, _ = fetch_hub(config(params(mirror, parallel={"id": OPUS, "pairs": None})), ["de"])
    assert len(tables["parallel"]) == ROWS - 1
    with pytest.raises(RadisError) as err:
        fetch_hub(config(params(mirror, parallel={"id": OPUS, "pairs": ROWS})), ["de"])
    assert str(err.value) == (
        f"params.yaml: fetch.hub.parallel.pairs: {ROWS} asked, en-de has {ROWS - 1} usable pairs"
    )


def test_opus_config_names_and_missing_config(mirror):
    data = params(mirror, parallel={"id": OPUS, "pairs": 5, "configs": {"ja": "ja-en"}})
    with pytest.raises(RadisError, match=r"fetch\.hub\.parallel: Helsinki-NLP/opus-100.*'ja-en'"):
        fetch_hub(config(data), ["ja"])
    data["hub"]["parallel"]["configs"] = {"ja": "de-ja"}
    with pytest.raises(RadisError, match=r"parallel\.configs: 'de-ja' is not 'en-<x>'"):
        fetch_hub(config(data), ["ja"])


def test_without_a_parallel_spec_the_train_pairs_are_the_parallel_data(mirror):
    tables, counts = fetch_hub(config(params(mirror)), ["de", "ja"])
    mt = tables["translation"]
    expected = mt[(mt.split == "train") & (mt.src_lang == "en")].reset_index(drop=True)
    assert tables["parallel"].equals(expected) and counts["parallel"] == 8


def test_toy_parallel_is_the_english_train_pairs(tmp_path, world):
    from radis.core.io import write_table
    from radis.core.schemas import GENERAL, SFT

    write_table(world["parallel"], tmp_path / "parallel.parquet", TRANSLATION)
    write_table(world["general"], tmp_path / "general.parquet", GENERAL)
    write_table(world["instructions"], tmp_path / "instructions.parquet", SFT)
    cfg = config({"source": "toy", "toy_dir": str(tmp_path)})
    tables, counts = fetch_toy(cfg, ["qa", "qb"])
    mt = tables["translation"]
    par = tables["parallel"]
    assert par.equals(mt[(mt.split == "train") & (mt.src_lang == "en")].reset_index(drop=True))
    assert set(par.tgt_lang) == {"qa", "qb"} and counts["parallel"] == len(par) > 0
    assert fetch(cfg, ["qa", "qb"], seed=5)[0]["parallel"].equals(par)  # no sampling in toy
    assert fetch_dictionaries(cfg, ["qa"]) == ({}, {})


def test_opus_revision_is_pinned(monkeypatch, mirror):
    calls = []

    def fake(path, name=None, split=None, **kwargs):
        calls.append((path, name, kwargs))
        a, b = name.split("-")
        return datasets.Dataset.from_list(
            [{"translation": {a: f"{a} {i}", b: f"{b} {i}"}} for i in range(3)]
        )

    monkeypatch.setattr(datasets, "load_dataset", fake)
    sha = "4" * 40
    data = params(mirror, parallel={"id": OPUS, "pairs": 2, "revision": sha})
    del data["mirror"]
    data["hub"]["train"]["revision"] = data["hub"]["test"]["revision"] = sha
    tables, counts = fetch_hub(config(data), ["ja"])
    assert (OPUS, "en-ja", {"revision": sha}) in calls
    assert counts[f"commit.{OPUS}"] == sha
    assert tables["parallel"].source.str.startswith("en ").all()


# --- MUSE dictionaries -----------------------------------------------------------------------

MUSE_TEXT = {
    "en-de": "house Haus\nhouse Gebäude\ncat Katze\n",
    "de-en": "haus house\nkatze cat\n",
    "en-no": "house hus\n",
    "no-en": "hus house\n",
}


def test_dictionaries_from_muse_url_with_code_mapping(monkeypatch, mirror):
    urls = []

    def fake_urlopen(url, timeout):
        urls.append(url)
        pair = url.rsplit("/", 1)[1].removesuffix(".txt")
        if pair not in MUSE_TEXT:
            raise OSError("HTTP Error 403: Forbidden")
        return io.BytesIO(MUSE_TEXT[pair].encode())

    monkeypatch.setattr(hub, "urlopen", fake_urlopen)
    data = params(mirror, dictionaries={"codes": {"nb": "no"}})
    del data["mirror"]
    texts, counts = fetch_dictionaries(config(data), ["de", "nb"])
    assert urls == [
        f"https://dl.fbaipublicfiles.com/arrival/dictionaries/{p}.txt"
        for p in ("en-de", "de-en", "en-no", "no-en")
    ]
    assert texts == {
        "en-de.txt": MUSE_TEXT["en-de"],
        "de-en.txt": MUSE_TEXT["de-en"],
        "en-nb.txt": MUSE_TEXT["en-no"],
        "nb-en.txt": MUSE_TEXT["no-en"],
    }
    assert counts == {"dictionary.en-de": 3, "dictionary.de-en": 2} | {
        "dictionary.en-nb": 1,
        "dictionary.nb-en": 1,
    }
    with pytest.raises(RadisError) as err:
        fetch_dictionaries(config(data), ["de", "ja"])
    assert str(err.value) == (
        "params.yaml: fetch.hub.dictionaries: 'ja': no dictionary en-ja.txt: "
        "https://dl.fbaipublicfiles.com/arrival/dictionaries/en-ja.txt: HTTP Error 403: Forbidden"
    )


def test_dictionaries_from_a_mirror_or_a_local_folder(tmp_path, mirror):
    folder = mirror / MUSE_MIRROR
    folder.mkdir(parents=True)
    for pair in ("en-de", "de-en"):
        (folder / f"{pair}.txt").write_text(MUSE_TEXT[pair])
    texts, _ = fetch_dictionaries(config(params(mirror, dictionaries={})), ["de"])
    assert texts == {"en-de.txt": MUSE_TEXT["en-de"], "de-en.txt": MUSE_TEXT["de-en"]}
    local = tmp_path / "local"
    local.mkdir()
    (local / "en-de.txt").write_text(MUSE_TEXT["en-de"])
    with pytest.raises(RadisError) as err:
        fetch_dictionaries(config(params(mirror, dictionaries={"local": str(local)})), ["de"])
    assert str(err.value) == (
        f"params.yaml: fetch.hub.dictionaries: 'de': no dictionary de-en.txt: "
        f"{local / 'de-en.txt'} not found"
    )
    (local / "de-en.txt").write_text("<html>\n<body>Not found</body>\n")
    with pytest.raises(RadisError, match=r"dictionaries: de-en.txt:1: expected 'source target'"):
        fetch_dictionaries(config(params(mirror, dictionaries={"local": str(local)})), ["de"])
    with pytest.raises(RadisError, match=r"url: 'x' has no \{pair\}"):
        config(params(mirror, dictionaries={"url": "x"}))


@pytest.mark.slow
def test_fetch_stage_writes_parallel_and_dictionaries(tmp_path, mirror, monkeypatch):
    folder = mirror / MUSE_MIRROR
    folder.mkdir(parents=True)
    for pair in ("en-de", "de-en"):
        (folder / f"{pair}.txt").write_text(MUSE_TEXT[pair])
    fetch_params = params(mirror, parallel={"id": OPUS, "pairs": 4}, dictionaries={})
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({"base": {"languages": ["de"], "seed": 3}, "fetch": fetch_params})
    )
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    result = run_stage(tmp_path, "stages.fetch")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "data/fetch"
    assert sorted(p.name for p in (out / "dictionaries").iterdir()) == ["de-en.txt", "en-de.txt"]
    assert (out / "dictionaries/en-de.txt").read_text() == MUSE_TEXT["en-de"]
    par = read_table(out / "parallel.parquet", TRANSLATION)
    expected = fetch_hub(config(fetch_params), ["de"], seed=3)[0]["parallel"]
    assert par.equals(expected) and len(par) == 4
    metrics = read_json(tmp_path / "metrics/fetch.json")
    assert metrics["parallel"] == 4 and metrics["dictionary.en-de"] == 3
    there, back = read_dictionaries(out / "dictionaries", ["de"])
    assert there == {"de": {"house": ["Haus", "Gebäude"], "cat": ["Katze"]}}
    assert back == {"de": {"haus": ["house"], "katze": ["cat"]}}


def test_opus_test_split_as_the_translation_test_set(tmp_path):
    # The SDRRL setup's `evaluate` test set: Opus-100's test split, configs named by the two
    # codes sorted, Norwegian under Opus-100's code `no`, both directions, and no train split.
    root = tmp_path / "mirror"
    configs = {"de": "de-en", "ja": "en-ja", "nb": "en-no"}
    code = {"de": "de", "ja": "ja", "nb": "no"}
    write_repo(
        root, OPUS, {configs[x]: {"test": [opus_pair(code[x], i) for i in range(3)]} for x in code}
    )
    spec = {"id": OPUS, "split": "test", "both_directions": True, "naming": "sorted"}
    data = params(root, train=None, test=spec | {"codes": {"nb": "no"}})
    tables, counts = fetch_hub(config(data), ["de", "ja", "nb"])
    mt = tables["translation"]
    assert set(mt.split) == {"test"} and counts["translation.test"] == 18
    pairs = mt.groupby(["src_lang", "tgt_lang"]).size().to_dict()
    assert pairs == {(a, b): 3 for x in code for a, b in ((x, "en"), ("en", x))}
    nb = mt[(mt.src_lang == "en") & (mt.tgt_lang == "nb")].sort_values("id")
    assert nb.id.tolist() == [f"test-en-nb-{i:06d}" for i in range(3)]
    assert nb.reference.tolist() == [f"no Satz {i}." for i in range(3)]
    with pytest.raises(RadisError, match=r"fetch\.hub\.test: Helsinki-NLP/opus-100.*'en-nb'"):
        fetch_hub(config(params(root, train=None, test=spec)), ["nb"])  # no code map
    with pytest.raises(RadisError, match=r"fetch\.hub\.test: Helsinki-NLP/opus-100.*'ja-en'"):
        fetch_hub(config(params(root, train=None, test=spec | {"naming": "x-en"})), ["ja"])


MUSE = Path(__file__).resolve().parents[2] / "shared/data/raw/muse"


@pytest.mark.skipif(not (MUSE / "en-zh.txt").is_file(), reason="../shared/data/raw/muse absent")
def test_traditional_muse_chinese_converted_to_simplified(tmp_path):
    # MUSE's en-zh is traditional script; NLLB's zho_Hans (the switched questions) simplified.
    (tmp_path / "zh-en.txt").write_text("還有 and\n")
    (tmp_path / "en-zh.txt").write_text((MUSE / "en-zh.txt").read_text(encoding="utf-8"))
    plain = DictionarySpec(local=str(tmp_path))
    simplified = DictionarySpec(local=str(tmp_path), convert={"zh": "t2s"})
    before = dictionary_texts(plain, ["zh"], None, "fetch.hub.dictionaries")
    after = dictionary_texts(simplified, ["zh"], None, "fetch.hub.dictionaries")
    assert "and 還有" in before["en-zh.txt"] and "and 还有" in after["en-zh.txt"]
    assert "還" not in after["en-zh.txt"] and after["zh-en.txt"] == "还有 and\n"
    lines = after["en-zh.txt"].splitlines()
    assert len(lines) == len(before["en-zh.txt"].splitlines())
    assert [x.split()[0] for x in lines] == [x.split()[0] for x in before["en-zh.txt"].splitlines()]
    with pytest.raises(RadisError, match=r"dictionaries\.convert\.zh: unknown OpenCC conversion"):
        config(params(tmp_path, dictionaries={"local": str(tmp_path), "convert": {"zh": "x2y"}}))
