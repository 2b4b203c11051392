import pandas as pd
import pytest

from radis.core.io import RadisError
from radis.data.build import MethodConfig, build, last_sentence_end

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
    from radis.data.rationales import with_instructions

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
    rat = rationales(["", "\n\nOne. Two is", "\n\nok"], ("stop", "length", "stop"))
    cut = build(MethodConfig("radis"), TRAIN, rat, seed=0)
    assert cut.completion.tolist() == ["A.", "B.\n\nOne.", "C.\n\nok"]
    strict = build(MethodConfig("radis", truncated="drop", drop_empty=True), TRAIN, rat, seed=0)
    assert strict.id.tolist() == ["p2", "p3"]
    assert strict.completion.tolist() == ["B.", "C.\n\nok"]
    # No complete sentence: the row keeps the reference only (it is not an empty rationale).
    rat = rationales(["\n\nwhy", "\n\nno end yet", "\n\nok"], ("stop", "length", "stop"))
    strict = build(MethodConfig("radis", drop_empty=True), TRAIN, rat, seed=0)
    assert strict.completion.tolist() == ["A.\n\nwhy", "B.", "C.\n\nok"]


def test_masked_control_cuts_truncated_rationales_alike():
    rat = rationales(["\n\nWhy 1", "\n\nOne. Two is", ""], ("stop", "length", "stop"))
    m = build(MethodConfig("radis", rationale_loss=False), TRAIN, rat, seed=0)
    assert m.masked_suffix.tolist() == ["\n\nWhy 1", "\n\nOne.", ""]


@pytest.mark.parametrize(
    "text, kept",
    [
        ("\n\nThis is one. And two is cu", "\n\nThis is one."),
        ("\n\nWhy? Because! and", "\n\nWhy? Because!"),
        ('He said "yes." Then he', 'He said "yes."'),
        ("\n\nThe answer is 5. So the", "\n\nThe answer is 5."),
        ("\n\n这是第一句。这是第二", "\n\n这是第一句。"),
        ("\n\n是的！为什么？因为", "\n\n是的！为什么？"),
        ("\n\n「はい。」と彼は言", "\n\n「はい。」"),
        ("\n\n1. First thing. 2. Sec", "\n\n1. First thing."),  # a list number ends nothing
        ("\n\nSteps:\n1. Do this\n2. Th", ""),
        ("\n\nIt costs 3.5 dollars a", ""),  # a decimal point is no full stop
        ("\n\nIt ends with 3.", ""),  # the cut may fall inside 3.5
        ("\n\nno end at all", ""),
    ],
)
def test_last_sentence_end(text, kept):
    assert last_sentence_end(text) == kept


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
    from radis.data.rationales import with_instructions

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


def test_multitask_uses_each_instruction_row_at_most_once(capsys):
    inst = pd.DataFrame(
        {
            "id": [f"i{k}" for k in range(4)],
            "prompt": "q",
            "completion": [f"a{k}" for k in range(4)],
        }
    )
    out = build(MethodConfig("multitask", instruction_ratio=2.0), TRAIN, inst, seed=0)
    # 6 rows asked of a pool of 4: each is used once, not drawn again.
    assert sorted(out.completion.tolist()[3:]) == ["a0", "a1", "a2", "a3"]
    assert "asks for 6 instruction rows, the pool holds 4" in capsys.readouterr().err


def test_seqkd_adds_the_backbones_own_translations():
    own = pd.DataFrame(
        {"id": ["p1", "p2", "p3"], "response": ["A'", "", "C'"], "finish_reason": "stop"}
    )
    out = build(MethodConfig("seqkd"), TRAIN, own, seed=0)
    assert out.completion.tolist() == ["A.", "B.", "C.", "A'", "C'"]  # empty y' is skipped
    assert out.prompt.tolist()[3] == out.prompt.tolist()[0]


def test_seqkd_drops_translations_cut_short():
    own = pd.DataFrame(
        {"id": ["p1", "p2", "p3"], "response": ["A'", "B'", "C'"], "finish_reason": "stop"}
    )
    own.loc[1, "finish_reason"] = "length"
    out = build(MethodConfig("seqkd"), TRAIN, own, seed=0)
    assert out.completion.tolist() == ["A.", "B.", "C.", "A'", "C'"]


def test_sdft_trains_on_rewrites_and_the_reference_for_one_cut_short():
    rewrites = pd.DataFrame(
        {
            "id": ["p3", "p1", "p2"],
            "response": ["c!", "a!", "b! and the"],
            "finish_reason": ["stop", "stop", "length"],
        }
    )
    out = build(MethodConfig("sdft"), TRAIN, rewrites, seed=0)
    assert dict(zip(out.id, out.completion)) == {"p1": "a!", "p2": "B.", "p3": "c!"}
