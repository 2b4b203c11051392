import random

import pandas as pd
import pytest

from radis.io import RadisError
from radis.sdrrl import (
    SUBSETS,
    CodeSwitchConfig,
    code_switch,
    code_switch_questions,
    completion_rows,
    load_muse_dictionary,
    mix,
    mt_rows,
    off_target_filter,
    qe_filter,
    subsets,
    transfer_set,
)

INDONESIAN = {"en": "English", "id": "Indonesian", "qa": "Aurish"}.__getitem__


def qa(n, answer="ref"):
    ids = [f"q{i}" for i in range(n)]
    return pd.DataFrame(
        {"id": ids, "prompt": [f"Q {i}" for i in ids], "completion": [f"{answer} {i}" for i in ids]}
    )


def test_transfer_set_is_a_fair_reproducible_order_independent_coin():
    refs, own = qa(2000), qa(2000, "own")
    out = transfer_set(refs, own, seed=3)
    assert list(out.columns) == ["id", "prompt", "completion", "source"]
    share = (out.source == "self").mean()
    assert 0.45 <= share <= 0.55  # 2,000 fair flips: sd ≈ 1.1 %, this is ±4.5 sd
    expected = out.source.map({"self": "own", "reference": "ref"}) + " " + out.id
    assert out.completion.tolist() == expected.tolist()
    assert out.equals(transfer_set(refs, own, seed=3))
    shuffled = transfer_set(refs.sample(frac=1, random_state=1), own[::-1], seed=3)
    assert shuffled.set_index("id").sort_index().equals(out.set_index("id").sort_index())
    assert not out.source.equals(transfer_set(refs, own, seed=4).source)


def test_transfer_set_needs_the_same_ids():
    with pytest.raises(RadisError, match="differ on id 'q2'"):
        transfer_set(qa(3), qa(2), seed=0)


def test_muse_dictionary_multiple_targets_and_blank_lines(tmp_path):
    path = tmp_path / "en-id.txt"
    path.write_text("house rumah\nhouse wisma\n\nCat\tkucing\nhouse rumah\n")
    assert load_muse_dictionary(path) == {"house": ["rumah", "wisma"], "cat": ["kucing"]}


def test_muse_dictionary_malformed_line(tmp_path):
    path = tmp_path / "en-id.txt"
    path.write_text("house rumah\n\nbroken\n")
    with pytest.raises(RadisError, match=r"en-id.txt:3: expected 'source target'"):
        load_muse_dictionary(path)
    with pytest.raises(RadisError, match="not found"):
        load_muse_dictionary(tmp_path / "missing.txt")


def test_code_switch_keeps_punctuation_case_insensitive():
    dictionary = {"house": ["rumah"], "cat": ["kucing"]}
    text = 'The "House," a cat!\n(cat) dog'
    assert (
        code_switch(text, dictionary, 1.0, random.Random(0))
        == 'The "rumah," a kucing!\n(kucing) dog'
    )
    assert code_switch(text, dictionary, 0.0, random.Random(0)) == text


def test_code_switch_rate_and_uncovered_tokens():
    words = [f"w{k}" for k in range(50)]
    dictionary = {w: [f"T{w}a", f"T{w}b"] for w in words}
    rng = random.Random(0)
    tokens = [rng.choice(words) if k % 2 else f"u{k % 7}." for k in range(20000)]
    out = code_switch(" ".join(tokens), dictionary, 0.15, random.Random(1)).split(" ")
    assert len(out) == len(tokens)
    covered = [(a, b) for a, b in zip(tokens, out) if a in dictionary]
    assert len(covered) == 10000
    switched = [b for a, b in covered if a != b]
    assert abs(len(switched) / len(covered) - 0.15) <= 0.02  # sd ≈ 0.0036
    assert all(b in dictionary[a] for a, b in covered if a != b)
    assert {b[-1] for b in switched} == {"a", "b"}
    assert all(a == b for a, b in zip(tokens, out) if a not in dictionary)


def test_code_switch_questions_touches_prompts_only_per_language_and_row():
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "lang": ["id", "qa", "id"],
            "prompt": ["house house", "house house", "cat"],
            "completion": ["house", "house", "cat"],
        }
    )
    dicts = {"id": {"house": ["rumah"], "cat": ["kucing"]}, "qa": {"house": ["hus"]}}
    out = code_switch_questions(df, dicts, 1.0, seed=0)
    assert out.prompt.tolist() == ["rumah rumah", "hus hus", "kucing"]
    assert out.completion.tolist() == df.completion.tolist()
    many = pd.DataFrame(
        {"id": [f"r{i}" for i in range(200)], "lang": "id", "prompt": "house cat house cat"}
    ).assign(completion="x")
    once = code_switch_questions(many, dicts, 0.5, seed=7)
    again = code_switch_questions(many[::-1], dicts, 0.5, seed=7)[::-1]
    assert once.prompt.tolist() == again.prompt.tolist()
    assert once.prompt.nunique() > 1
    with pytest.raises(RadisError, match=r"no dictionary for language\(s\) \['qa'\]"):
        code_switch_questions(df, {"id": {}}, 0.15, seed=0)


def test_filters_drop_exactly_below_threshold_and_off_target():
    df = pd.DataFrame(
        {
            "id": list("abcde"),
            "score": [0.95, 0.8, 0.7999, float("nan"), 0.1],
            "detected": ["id", "id", "en", "id", "ms"],
            "lang": "id",
        }
    )
    kept, dropped = qe_filter(df, "score", 0.8)
    assert kept.id.tolist() == ["a", "b"] and dropped == 3
    kept, dropped = off_target_filter(df, "detected", "lang")
    assert kept.id.tolist() == ["a", "b", "d"] and dropped == 2
    assert kept.index.tolist() == [0, 1, 2]


def test_subsets_row_counts_and_contents():
    english = qa(3).assign(source="self")
    translated = pd.DataFrame(
        {
            "id": ["q0", "q0", "q1"],
            "lang": ["id", "qa", "id"],
            "prompt": ["T-Q0-id", "T-Q0-qa", "T-Q1-id"],
            "completion": ["T-A0-id", "T-A0-qa", "T-A1-id"],
        }
    )
    out = subsets(english, translated)
    assert {k: len(v) for k, v in out.items()} == {"LL": 3, "TL": 3, "LT": 3, "TT": 3}
    assert out["LL"].id.tolist() == ["q0:LL:en", "q1:LL:en", "q2:LL:en"]
    assert set(out["LL"].lang) == {"en"}
    tl = out["TL"].set_index("id")
    assert tl.loc["q0:TL:qa"].tolist() == ["TL", "qa", "T-Q0-qa", "ref q0"]
    assert out["LT"].set_index("id").loc["q1:LT:id"].tolist() == ["LT", "id", "Q q1", "T-A1-id"]
    assert out["TT"].set_index("id").loc["q0:TT:id"].tolist() == ["TT", "id", "T-Q0-id", "T-A0-id"]
    assert not any(i.startswith("q2:") for k in ("TL", "LT", "TT") for i in out[k].id)
    with pytest.raises(RadisError, match="'q9' is not in the transfer set"):
        subsets(english, translated.assign(id="q9"))


PAIRS = pd.DataFrame(
    {
        "id": ["p0", "p1", "p2"],
        "lang": ["id", "id", "qa"],
        "en": ["I eat rice.", "Hello", "Good morning, friend."],
        "target": ["Saya makan nasi.", "Halo", "Bo  mora, fren."],
    }
)


def test_mt_rows_templates_verbatim_both_directions():
    out = mt_rows(PAIRS, INDONESIAN)
    assert len(out) == 6 and set(out.subset) == {"mt"}
    rows = out.set_index("id")
    assert rows.loc["p0:mt:en-id"].tolist() == [
        "mt",
        "id",
        "Translate the following sentence from English to Indonesian.\nI eat rice.",
        "Saya makan nasi.",
    ]
    assert rows.loc["p0:mt:id-en"].tolist() == [
        "mt",
        "id",
        "Translate the following sentence from Indonesian to English.\nSaya makan nasi.",
        "I eat rice.",
    ]
    default = mt_rows(PAIRS[PAIRS.lang == "qa"])
    assert default.prompt.tolist() == [
        "Translate the following sentence from English to Aurish.\nGood morning, friend.",
        "Translate the following sentence from Aurish to English.\nBo  mora, fren.",
    ]


def test_completion_rows_proper_prefixes_and_template():
    out = completion_rows(PAIRS, seed=0, lang_name_fn=INDONESIAN)
    assert out.id.tolist() == ["p0:comp:id", "p2:comp:qa"]  # "Halo" has one word: skipped
    head = "Complete the following sentence in Indonesian according to its context.\n"
    assert out.prompt[0] in {head + "Saya", head + "Saya makan"}
    assert out.completion.tolist() == ["Saya makan nasi.", "Bo  mora, fren."]
    assert out.prompt[1] in {
        "Complete the following sentence in Aurish according to its context.\nBo",
        "Complete the following sentence in Aurish according to its context.\nBo  mora,",
    }
    assert out.equals(
        completion_rows(PAIRS[::-1], seed=0, lang_name_fn=INDONESIAN)[::-1].reset_index(drop=True)
    )
    sentences = [" ".join(f"w{k}" for k in range(n)) for n in range(2, 40)]
    many = pd.DataFrame(
        {
            "id": [f"s{n}" for n in range(len(sentences))],
            "lang": "id",
            "en": "x",
            "target": sentences,
        }
    )
    for row in completion_rows(many, seed=5, lang_name_fn=INDONESIAN).itertuples():
        prefix = row.prompt.split("\n", 1)[1]
        assert row.completion.startswith(prefix) and 0 < len(prefix.split()) < len(
            row.completion.split()
        )
        assert row.completion[len(prefix)] == " "


def test_mix_concatenates_six_subsets_with_tags():
    parts = subsets(
        qa(2), pd.DataFrame({"id": ["q0"], "lang": ["id"], "prompt": ["t"], "completion": ["u"]})
    )
    parts["mt"] = mt_rows(PAIRS, INDONESIAN)
    parts["comp"] = completion_rows(PAIRS, 0, INDONESIAN)
    table = mix(parts)
    assert table.subset.value_counts().to_dict() == {
        "mt": 6,
        "LL": 2,
        "comp": 2,
        "TL": 1,
        "LT": 1,
        "TT": 1,
    }
    assert list(table.columns) == ["id", "subset", "lang", "prompt", "completion"]
    assert list(dict.fromkeys(table.subset)) == list(SUBSETS)
    with pytest.raises(RadisError, match="expected subsets"):
        mix({k: v for k, v in parts.items() if k != "comp"})
    parts["TT"] = parts["TL"]
    with pytest.raises(RadisError, match="appears twice"):
        mix(parts)


def test_config_defaults_and_validation():
    assert CodeSwitchConfig().p == 0.15
    with pytest.raises(ValueError, match="p: must be in"):
        CodeSwitchConfig(p=1.5)
