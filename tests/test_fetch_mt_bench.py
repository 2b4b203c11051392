"""The MT-Bench questions of fetch: FastChat's question.jsonl from GitHub, a mirror or a local copy.

The tests write a tiny question.jsonl themselves; the translation data every hub fetch reads is
a stand-in for ``datasets.load_dataset``.
"""

import json

import datasets
import pytest

import radis.data.hub
from radis.core.config import parse
from radis.core.io import RadisError, read_table, write_table
from radis.core.schemas import MT_BENCH
from radis.data.fetch import SCHEMAS, FetchConfig, fetch_hub
from radis.data.hub import FASTCHAT_REVISION, MtBenchSpec, mt_bench_rows

QUESTIONS = [
    {"question_id": 81, "category": "writing", "turns": ["Write a poem.", "Shorten it."]},
    {
        "question_id": 111,
        "category": "math",
        "turns": ["What is 2 + 3?", " And times 4? "],
        "reference": ["5", "20"],
    },
    {"question_id": 90, "category": "roleplay", "turns": ["Be a pirate.", "   "]},
]
PATH = "fastchat/llm_judge/data/mt_bench/question.jsonl"
NO_OTHER_SETS = {k: None for k in ("valid", "alpaca", "dolly", "gsm8k", "advbench")} | {
    "alpaca_eval": None,
    "cocoa": None,
}


def jsonl(questions: list) -> str:
    return "".join(json.dumps(q) + "\n" for q in questions)


@pytest.fixture
def fake_translation(monkeypatch):
    """Every hub split read is one cs-en pair (fetch always reads translation data), at `main`."""

    def load(path, name=None, split=None, **kwargs):
        return datasets.Dataset.from_list([{"translation": {"cs": "Ahoj.", "en": "Hello."}}])

    monkeypatch.setattr(datasets, "load_dataset", load)
    monkeypatch.setattr(radis.data.hub, "resolve_commit", lambda repo, revision, kind: "a" * 40)


def fetch_config(mt_bench: dict | None, mirror=None) -> FetchConfig:
    hub = NO_OTHER_SETS | {"test": {"id": "haoranxu/WMT22-Test", "split": "test"}}
    hub["mt_bench"] = mt_bench
    return parse(FetchConfig, {"source": "hub", "mirror": mirror, "hub": hub}, "params.yaml: fetch")


def test_local_file_rows_and_blank_turns_dropped(tmp_path, fake_translation):
    path = tmp_path / "question.jsonl"
    path.write_text(jsonl(QUESTIONS) + "\n")
    tables, counts = fetch_hub(fetch_config({"local": str(path)}), ["cs"])
    table = tables["mt_bench"]
    assert table.to_dict("records") == [
        {
            "question_id": 81,
            "category": "writing",
            "turn_1": "Write a poem.",
            "turn_2": "Shorten it.",
        },
        {
            "question_id": 111,
            "category": "math",
            "turn_1": "What is 2 + 3?",
            "turn_2": "And times 4?",
        },
    ]
    assert counts["mt_bench"] == 2 and counts["dropped_empty.mt_bench"] == 1
    assert counts["dropped_empty"] == 1
    write_table(table, tmp_path / "mt_bench.parquet", SCHEMAS["mt_bench"])
    assert read_table(tmp_path / "mt_bench.parquet", MT_BENCH).question_id.tolist() == [81, 111]


def test_mirror_has_the_github_layout(tmp_path, fake_translation):
    mirror = tmp_path / "mirror"
    for repo in ("haoranxu/ALMA-Human-Parallel", "haoranxu/WMT22-Test"):
        (mirror / repo).mkdir(parents=True)  # read by the stand-in load_dataset
    path = mirror / "lm-sys/FastChat" / PATH
    path.parent.mkdir(parents=True)
    path.write_text(jsonl(QUESTIONS[:2]))
    spec = {"revision": "not-used-for-a-mirror"}
    tables, _ = fetch_hub(fetch_config(spec, str(mirror)), ["cs"])
    assert tables["mt_bench"].question_id.tolist() == [81, 111]


def test_left_out_by_default(fake_translation):
    assert parse(FetchConfig, {}, "params.yaml: fetch").hub.mt_bench is None
    tables, counts = fetch_hub(fetch_config(None), ["cs"])
    assert "mt_bench" not in tables and "mt_bench" not in counts


def test_github_raw_file_at_the_pinned_commit(monkeypatch):
    urls = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return jsonl(QUESTIONS[:1]).encode()

    def urlopen(url, timeout):
        urls.append(url)
        return Response()

    monkeypatch.setattr(radis.data.hub, "urlopen", urlopen)
    rows = mt_bench_rows(MtBenchSpec(), None, "params.yaml: fetch.hub.mt_bench")
    assert urls == [f"https://raw.githubusercontent.com/lm-sys/FastChat/{FASTCHAT_REVISION}/{PATH}"]
    assert rows.turn_2.tolist() == ["Shorten it."]


def test_no_network_is_one_line(monkeypatch):
    def urlopen(url, timeout):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(radis.data.hub, "urlopen", urlopen)
    with pytest.raises(RadisError) as err:
        mt_bench_rows(MtBenchSpec(revision="abc"), None, "params.yaml: fetch.hub.mt_bench")
    message = str(err.value)
    assert message.startswith("params.yaml: fetch.hub.mt_bench: lm-sys/FastChat: https://")
    assert "/abc/" in message and "name resolution" in message and "\n" not in message


@pytest.mark.parametrize(
    "line,fragment",
    [
        ('{"question_id": 1, "category": "x", "turns": ["only one"]}', "list of two turns"),
        ('{"question_id": "1", "category": "x", "turns": ["a", "b"]}', "integer question_id"),
        ('{"question_id": 1, "turns": ["a", "b"]}', "expected the fields"),
        ('{"question_id": 1, "category": "x", "turns": ["a", "b"]', "invalid JSON"),
    ],
)
def test_malformed_line_is_one_line_naming_it(tmp_path, line, fragment):
    path = tmp_path / "question.jsonl"
    path.write_text(jsonl(QUESTIONS[:1]) + line + "\n")
    with pytest.raises(RadisError) as err:
        mt_bench_rows(MtBenchSpec(local=str(path)), None, "params.yaml: fetch.hub.mt_bench")
    message = str(err.value)
    assert message.startswith(f"params.yaml: fetch.hub.mt_bench: {path}: line 2: ")
    assert fragment in message and "\n" not in message


def test_repeated_question_id_is_rejected(tmp_path):
    path = tmp_path / "question.jsonl"
    path.write_text(jsonl([QUESTIONS[0], QUESTIONS[0]]))
    with pytest.raises(RadisError, match="question_id 81 twice"):
        mt_bench_rows(MtBenchSpec(local=str(path)), None, "params.yaml: fetch.hub.mt_bench")


def test_missing_local_file_is_one_line(tmp_path, fake_translation):
    with pytest.raises(
        RadisError, match=r"fetch\.hub\.mt_bench: lm-sys/FastChat: .*file not found"
    ):
        fetch_hub(fetch_config({"local": str(tmp_path / "nope.jsonl")}), ["cs"])
