from dataclasses import dataclass, field

import pandas as pd
import pytest

from radis.core.config import parse
from radis.core.io import RadisError, atomic_path, read_table, write_table
from radis.core.schemas import GENERAL, SFT
from radis.train.loop import TrainConfig


def test_roundtrip_keeps_schema_and_order(tmp_path):
    rows = [
        {"id": "b", "prompt": "p", "completion": "c"},
        {"id": "a", "prompt": "q", "completion": "d"},
    ]
    write_table(rows, tmp_path / "t.parquet", SFT)
    assert read_table(tmp_path / "t.parquet", SFT).to_dict("records") == rows


def test_missing_column_names_file_and_column(tmp_path):
    pd.DataFrame({"id": ["a"], "prompt": ["p"]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(RadisError, match=r"t.parquet: missing column 'completion'"):
        read_table(tmp_path / "t.parquet", SFT)


def test_empty_table_and_missing_file_and_garbage(tmp_path):
    write_table([], tmp_path / "e.parquet", SFT)
    with pytest.raises(RadisError, match="e.parquet: table is empty"):
        read_table(tmp_path / "e.parquet", SFT)
    assert read_table(tmp_path / "e.parquet", SFT, allow_empty=True).empty
    with pytest.raises(RadisError, match="nope.parquet: file not found"):
        read_table(tmp_path / "nope.parquet", SFT)
    (tmp_path / "g.parquet").write_text("not parquet")
    with pytest.raises(RadisError, match="g.parquet: not a readable Parquet file"):
        read_table(tmp_path / "g.parquet", SFT)


def test_other_schema_is_rejected(tmp_path):
    write_table([{"id": "a", "prompt": "p", "completion": "c"}], tmp_path / "t.parquet", SFT)
    with pytest.raises(RadisError, match="schema 'sft' v1, expected 'general' v1"):
        read_table(tmp_path / "t.parquet", GENERAL)


def test_wrong_column_type(tmp_path):
    pd.DataFrame({"id": [1], "prompt": ["p"], "completion": ["c"]}).to_parquet(
        tmp_path / "t.parquet"
    )
    with pytest.raises(RadisError, match="column 'id' has type int64, expected string"):
        read_table(tmp_path / "t.parquet", SFT)


def test_atomic_path_keeps_old_output_on_failure(tmp_path):
    out = tmp_path / "out"
    with atomic_path(out) as tmp:
        tmp.mkdir()
        (tmp / "f").write_text("old")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.mkdir()
        (tmp / "f").write_text("half")
        raise RuntimeError
    assert (out / "f").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@dataclass
class Inner:
    n: int = 1


@dataclass
class Outer:
    lr: float = 1.0
    inner: Inner = field(default_factory=Inner)


def test_parse_validates_keys_and_types():
    assert parse(Outer, {"lr": 2, "inner": {"n": 3}}, "p: x") == Outer(2.0, Inner(3))
    with pytest.raises(RadisError, match=r"p: x: unknown field\(s\) \['lrr'\]"):
        parse(Outer, {"lrr": 1.0}, "p: x")
    with pytest.raises(RadisError, match=r"p: x.lr: expected float, got '1e-4' \(write floats"):
        parse(Outer, {"lr": "1e-4"}, "p: x")
    with pytest.raises(RadisError, match=r"p: x.inner.n: expected int, got True"):
        parse(Outer, {"inner": {"n": True}}, "p: x")


def test_train_config_ranges():
    with pytest.raises(RadisError, match=r"train.batch_size: must be > 0, got 0"):
        parse(TrainConfig, {"batch_size": 0}, "params.yaml: train")
    with pytest.raises(RadisError, match="micro_batch_size: 3 does not divide batch_size 8"):
        parse(TrainConfig, {"batch_size": 8, "micro_batch_size": 3}, "params.yaml: train")
