"""Tiny local copies of SDRRL's evaluation datasets, in the layout the hub serves them.

- facebook/belebele: a README listing one config per FLORES-200 code, ``data/<code>.jsonl``
  (split ``test``), BELEBELE's columns.
- openlanguagedata/flores_plus: a README listing one config per code, ``dev/<code>.parquet`` and
  ``devtest/<code>.parquet``, FLORES+'s columns; sentence ``id`` aligns the languages.
- csebuetnlp/xlsum: the hub's Parquet export (``refs/convert/parquet``): a folder per language
  with ``xlsum-<split>.parquet`` (train in two shards), DuckDB index folders beside them, and no
  README.
- apple/mkqa: its Parquet export too: ``mkqa/train/0000.parquet``, with ``queries`` a struct of
  the 26 language fields and ``answers`` a struct of lists of {type (the ClassLabel index),
  entity, text, aliases}.
"""

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MKQA_KEYS = (
    "ar da de en es fi fr he hu it ja ko km ms nl no pl pt ru sv th tr vi zh_cn zh_hk zh_tw"
).split()

#: Parallel sentences by FLORES+ code (the same ids in every language).
FLORES = {
    "eng_Latn": ["The cat sleeps.", "A red house stands here.", "We like the river."],
    "ces_Latn": ["Kočka spí.", "Stojí tu červený dům.", "Máme rádi řeku."],
    "rus_Cyrl": ["Кошка спит.", "Здесь стоит красный дом.", "Мы любим реку."],
}
#: BELEBELE questions by code: (passage, question, four answers, correct number).
BELEBELE = {
    "eng_Latn": [
        ("The cat sleeps.", "Who sleeps?", ["The cat", "The dog", "A bird", "Nobody"], "1"),
        ("Tom has two cups.", "How many cups?", ["One", "Three", "Two", "Four"], "3"),
    ],
    "ces_Latn": [("Kočka spí.", "Kdo spí?", ["Pes", "Kočka", "Pták", "Nikdo"], "2")],
    "rus_Cyrl": [("Кошка спит.", "Кто спит?", ["Собака", "Птица", "Никто", "Кошка"], "4")],
}
#: XL-SUM articles by config: (article, summary).
XLSUM = {
    "english": [
        ("The river rose after rain. Many houses were wet.", "Rain made the river rise."),
        ("The king visited the town. People came to see him.", "The king visited the town."),
    ],
    "russian": [("Река поднялась после дождя.", "Дождь поднял реку.")],
}
#: MKQA rows: per field, [(type index, text, aliases)]; 2 is unanswerable, 1 long_answer.
MKQA = [
    {
        "query": "who wrote the red book",
        "queries": {"en": "who wrote the red book", "ru": "кто написал красную книгу"},
        "answers": {
            "en": [(0, "Ana Stone", ["A. Stone"])],
            "ru": [(0, "Анна Стоун", [])],
        },
    },
    {
        "query": "when did the bridge open",
        "queries": {"en": "when did the bridge open", "ru": "когда открыли мост"},
        "answers": {"en": [(3, "1990", [])], "ru": [(3, "1990", [])]},
    },
    {
        "query": "why is the sky blue",
        "queries": {"en": "why is the sky blue", "ru": "почему небо голубое"},
        "answers": {"en": [(1, "", [])], "ru": [(2, "", [])]},
    },
]


def readme(configs: dict[str, dict[str, str]]) -> str:
    """A dataset card whose YAML lists ``{config: {split: path}}``."""
    listed = [
        {"config_name": c, "data_files": [{"split": s, "path": p} for s, p in files.items()]}
        for c, files in configs.items()
    ]
    return "---\n" + json.dumps({"configs": listed}) + "\n---\n"


def belebele(root: Path) -> None:
    folder = root / "facebook/belebele"
    (folder / "data").mkdir(parents=True)
    for code, items in BELEBELE.items():
        lines = [
            json.dumps(
                {
                    "link": f"https://example.org/{code}/{i}",
                    "question_number": i + 1,
                    "flores_passage": passage,
                    "question": question,
                    **{f"mc_answer{k + 1}": a for k, a in enumerate(answers)},
                    "correct_answer_num": correct,
                    "dialect": code,
                    "ds": "2023-05-03",
                },
                ensure_ascii=False,
            )
            for i, (passage, question, answers, correct) in enumerate(items)
        ]
        (folder / "data" / f"{code}.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "README.md").write_text(
        readme({code: {"test": f"data/{code}.jsonl"} for code in BELEBELE})
    )


def flores(root: Path) -> None:
    folder = root / "openlanguagedata/flores_plus"
    configs = {}
    for code, texts in FLORES.items():
        iso, script = code.split("_")
        for split in ("dev", "devtest"):
            (folder / split).mkdir(parents=True, exist_ok=True)
            pd.DataFrame(
                {
                    "id": range(len(texts)),
                    "iso_639_3": iso,
                    "iso_15924": script,
                    "glottocode": "none0000",
                    "text": texts,
                    "url": "https://example.org",
                    "domain": "wikinews",
                    "topic": "nature",
                    "has_image": False,
                    "has_hyperlink": False,
                    "last_updated": "2.0",
                }
            ).to_parquet(folder / split / f"{code}.parquet", index=False)
        configs[code] = {s: f"{s}/{code}.parquet" for s in ("dev", "devtest")}
    (folder / "README.md").write_text(readme(configs))


def xlsum(root: Path) -> None:
    for config, items in XLSUM.items():
        folder = root / "csebuetnlp/xlsum" / config
        folder.mkdir(parents=True)
        for split in ("train", "validation", "test"):
            rows = pd.DataFrame(
                {
                    "id": [f"{config}-{split}-{i}" for i in range(len(items))],
                    "url": "https://example.org",
                    "title": "A title",
                    "summary": [s for _, s in items],
                    "text": [t for t, _ in items],
                }
            )
            if split == "train":
                for shard in range(2):
                    name = f"xlsum-train-{shard:05d}-of-00002.parquet"
                    rows.to_parquet(folder / name, index=False)
            else:
                rows.to_parquet(folder / f"xlsum-{split}.parquet", index=False)
            (folder / split).mkdir()  # the export's DuckDB index of the split
            (folder / split / "index.duckdb").write_bytes(b"DUCK" * 64)


def mkqa(root: Path) -> None:
    answer = pa.struct(
        [
            ("type", pa.int64()),
            ("entity", pa.string()),
            ("text", pa.string()),
            ("aliases", pa.list_(pa.string())),
        ]
    )
    schema = pa.schema(
        [
            ("example_id", pa.string()),
            ("queries", pa.struct([(k, pa.string()) for k in MKQA_KEYS])),
            ("query", pa.string()),
            ("answers", pa.struct([(k, pa.list_(answer)) for k in MKQA_KEYS])),
        ]
    )
    rows = [
        {
            "example_id": str(1000 + i),
            "queries": {k: row["queries"].get(k, row["query"]) for k in MKQA_KEYS},
            "query": row["query"],
            "answers": {
                k: [
                    {"type": t, "entity": "", "text": text, "aliases": aliases}
                    for t, text, aliases in row["answers"].get(k, row["answers"]["en"])
                ]
                for k in MKQA_KEYS
            },
        }
        for i, row in enumerate(MKQA)
    ]
    folder = root / "apple/mkqa/mkqa/train"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "0000.parquet")


def make_mirror(root: Path) -> Path:
    """Every dataset under ``root``; returns ``root``."""
    for build in (belebele, flores, xlsum, mkqa):
        build(root)
    return root
