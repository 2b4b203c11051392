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


def test_masked_rationale_control_keeps_the_rationale_out_of_the_loss_text():
    rat = rationales(["\n\nWhy 1", "", "\n\nWhy 3"])
    r = build(MethodConfig("radis"), TRAIN, rat, seed=0)
    m = build(MethodConfig("radis", rationale_loss=False), TRAIN, rat, seed=0)
    assert m.prompt.tolist() == r.prompt.tolist()
    assert m.completion.tolist() == ["A.", "B.", "C."]
    assert m.masked_suffix.tolist() == ["\n\nWhy 1", "", "\n\nWhy 3"]
    assert (m.completion + m.masked_suffix).tolist() == r.completion.tolist()
    assert (r.masked_suffix == "").all()


def test_radis_needs_a_rationale_per_training_row():
    with pytest.raises(RadisError, match="rationales table: no row for 1 training id"):
        build(MethodConfig("radis"), TRAIN, rationales(["x", "y", "z"]).head(2), seed=0)


def test_proportion_enriches_an_exact_seeded_share():
    train = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(40)],
            "split": "train",
            "src_lang": "en",
            "tgt_lang": "qa",
            "source": "a.",
            "reference": "A.",
        }
    )
    from radis.rationales import with_instructions

    rat = with_instructions(train, 0).assign(rationale=" why", finish_reason="stop")
    cfg = MethodConfig("radis", proportion=0.25)
    out = build(cfg, train, rat, seed=0)
    enriched = out[out.completion == "A. why"].id
    assert len(out) == 40 and len(enriched) == 10
    assert (
        enriched.tolist()
        == build(cfg, train, rat, seed=0)[lambda d: d.completion != "A."].id.tolist()
    )
    assert set(enriched) != set(build(cfg, train, rat, seed=1)[lambda d: d.completion != "A."].id)


def test_multitask_mixes_in_instruction_rows_at_the_ratio():
    inst = pd.DataFrame({"id": [f"i{k}" for k in range(10)], "prompt": "q", "completion": "a"})
    out = build(MethodConfig("multitask", instruction_ratio=2.0), TRAIN, inst, seed=0)
    assert len(out) == 3 + 6 and out.id.is_unique
    assert (out.completion == "a").sum() == 6
    assert out.head(3).completion.tolist() == ["A.", "B.", "C."]


def test_seqkd_adds_the_backbones_own_translations():
    own = pd.DataFrame({"id": ["p1", "p2", "p3"], "response": ["A'", "", "C'"]})
    out = build(MethodConfig("seqkd"), TRAIN, own, seed=0)
    assert out.completion.tolist() == ["A.", "B.", "C.", "A'", "C'"]  # empty y' is skipped
    assert out.prompt.tolist()[3] == out.prompt.tolist()[0]


def test_sdft_trains_on_rewrites():
    rewrites = pd.DataFrame({"id": ["p3", "p1", "p2"], "response": ["c!", "a!", "b!"]})
    out = build(MethodConfig("sdft"), TRAIN, rewrites, seed=0)
    assert dict(zip(out.id, out.completion)) == {"p1": "a!", "p2": "b!", "p3": "c!"}
