import pandas as pd
import pytest

from radis.build import MethodConfig, build
from radis.io import RadisError

TRAIN = pd.DataFrame(
    {
        "id": ["p1", "p2", "p3"],
        "split": "train",
        "src_lang": "en",
        "tgt_lang": "qa",
        "source": ["a.", "b.", "c."],
        "reference": ["A.", "B.", "C."],
    }
)


def rationales(texts, reasons=("stop", "stop", "stop")):
    from radis.rationales import with_instructions

    rows = with_instructions(TRAIN, seed=0)
    return rows.assign(rationale=list(texts), finish_reason=list(reasons))


def test_vanilla_and_radis_share_instructions_and_radis_appends_rationales():
    v = build(MethodConfig("vanilla"), TRAIN, None, seed=0)
    r = build(
        MethodConfig("radis"), TRAIN, rationales(["\n\nWhy 1", "\n\nWhy 2", "\n\nWhy 3"]), seed=0
    )
    assert v.prompt.tolist() == r.prompt.tolist()
    assert v.completion.tolist() == ["A.", "B.", "C."]
    assert r.completion.tolist() == ["A.\n\nWhy 1", "B.\n\nWhy 2", "C.\n\nWhy 3"]


def test_radis_empty_and_truncated_rationales():
    rat = rationales(["", "\n\ncut", "\n\nok"], ("stop", "length", "stop"))
    keep = build(MethodConfig("radis"), TRAIN, rat, seed=0)
    assert keep.completion.tolist() == ["A.", "B.\n\ncut", "C.\n\nok"]
    strict = build(MethodConfig("radis", keep_truncated=False, drop_empty=True), TRAIN, rat, seed=0)
    assert strict.id.tolist() == ["p2", "p3"]
    assert strict.completion.tolist() == ["B.", "C.\n\nok"]


def test_radis_needs_a_rationale_per_training_row():
    with pytest.raises(RadisError, match="no rationale for 1 training id"):
        build(MethodConfig("radis"), TRAIN, rationales(["x", "y", "z"]).head(2), seed=0)
