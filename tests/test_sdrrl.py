import random
from pathlib import Path

import pandas as pd
import pytest

from radis.core.io import RadisError
from radis.sdrrl.codeswitch import (
    CodeSwitchConfig,
    code_switch,
    code_switch_questions,
    invert,
    load_muse_dictionary,
    read_dictionaries,
    reverse_pairs,
    segment_words,
    switch_table,
)
from radis.sdrrl.filter import off_target_filter, qe_filter
from radis.sdrrl.recipes import (
    SUBSETS,
    completion_rows,
    mix,
    mt_rows,
    parallel_pairs,
    subsets,
    transfer_set,
    translated_pairs,
)
from radis.toy.sdrrl import dictionary as toy_dictionary
from radis.toy.sdrrl import muse_text

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
    french = subsets(english, translated, source="fr")["LL"]  # appendix C: French source
    assert french.id.tolist() == ["q0:LL:fr", "q1:LL:fr", "q2:LL:fr"]
    assert set(french.lang) == {"fr"}


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


# --- Dictionaries, segmentation of unspaced scripts, one-sided translations -----------------

MUSE = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw" / "muse"
needs_muse = pytest.mark.skipif(
    not MUSE.is_dir(), reason=f"{MUSE} absent: the shared samples live beside the checkout"
)

#: Japanese and Chinese questions (the Chinese in traditional script, as the MUSE sample is).
UNSPACED = {
    "ja": [
        "この本はとても面白いです。",
        "私は毎日学校に行きます。",
        "彼は東京から来ました。",
        "今日の天気はどうですか？",
        "新しい車を買いたいです。",
        "子供たちは公園で遊んでいる。",
        "日本語の文章を書いてください。",
        "家族と一緒に夕食を食べました。",
    ],
    "zh": [
        "這本書非常有趣。",
        "我每天去學校。",
        "他從東京來。",
        "今天的天氣怎麼樣？",
        "我想買一輛新車。",
        "孩子們在公園裡玩。",
        "請寫一篇中文文章。",
        "我和家人一起吃晚飯。",
    ],
}


def test_muse_tab_separated_entries_may_hold_spaces(tmp_path):
    path = tmp_path / "en-ja.txt"
    path.write_text("new york\tニューヨーク\nand\tそして\n")
    assert load_muse_dictionary(path) == {"new york": ["ニューヨーク"], "and": ["そして"]}
    path.write_text("and\t\n")
    with pytest.raises(RadisError, match=r"en-ja.txt:1: expected 'source target'"):
        load_muse_dictionary(path)


@needs_muse
@pytest.mark.parametrize("lang", ["de", "ja", "ru", "zh"])
def test_shared_muse_samples_load_every_line(lang):
    """3,000 lines each (ja tab-separated): every line is one (source, target) entry."""
    lines = (MUSE / f"en-{lang}.txt").read_text(encoding="utf-8").splitlines()
    entries = load_muse_dictionary(MUSE / f"en-{lang}.txt")
    pairs = {(s, t) for s, targets in entries.items() for t in targets}
    sep = "\t" if lang == "ja" else " "
    assert pairs == {(line.split(sep)[0].lower(), line.split(sep)[1]) for line in lines}


def test_read_dictionaries_both_directions_and_missing_names_the_language(tmp_path):
    (tmp_path / "en-de.txt").write_text("house Haus\n")
    (tmp_path / "de-en.txt").write_text("Haus house\nGebäude house\n")
    there, back = read_dictionaries(tmp_path, ["de"])
    assert there == {"de": {"house": ["Haus"]}}
    assert back == {"de": {"haus": ["house"], "gebäude": ["house"]}}
    (tmp_path / "en-ja.txt").write_text("house 家\n")
    with pytest.raises(RadisError) as err:
        read_dictionaries(tmp_path, ["de", "ja"])
    assert str(err.value) == f"{tmp_path / 'ja-en.txt'}: dictionary file not found (language 'ja')"


def test_segment_words_longest_match():
    dictionary = {"東京": ["Tokyo"], "東": ["east"], "京都": ["Kyoto"], "ai": ["AI"]}
    run = "東京都のAIと東。"
    words = segment_words(run, dictionary, 2)
    assert words == ["東京", "都", "の", "AI", "と", "東", "。"]
    assert "".join(words) == run
    assert segment_words("京都", dictionary, 2) == ["京都"]
    assert segment_words("abc", {}, 0) == ["abc"]


def test_unspaced_text_switches_at_dictionary_words():
    dictionary = {"東京": ["Tokyo"], "行く": ["go"]}
    text = "東京に行く。 東京!"
    assert code_switch(text, dictionary, 1.0, random.Random(0)) == "東京に行く。 Tokyo!"
    assert (
        code_switch(text, dictionary, 1.0, random.Random(0), segment=True) == "Tokyoにgo。 Tokyo!"
    )


@needs_muse
@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_unspaced_questions_switch_close_to_p_of_covered_tokens(lang):
    """Translated questions in ja/zh: 3,200 questions, ~5-10k covered dictionary words."""
    there = load_muse_dictionary(MUSE / f"en-{lang}.txt")
    back = invert(there)
    n = 400
    kept = pd.DataFrame(
        {
            "id": [f"q{k}-{i}" for k in range(n) for i in range(len(UNSPACED[lang]))],
            "lang": lang,
            "field": "question",
            "translation": UNSPACED[lang] * n,
        }
    )
    answers = pd.DataFrame({"id": [], "question": []})
    whitespace = switch_table(answers, kept, {lang: there}, 0.15, seed=0, back={lang: back})
    assert whitespace.covered.sum() == 0  # one whitespace run per question: nothing matches
    table = switch_table(answers, kept, {lang: there}, 0.15, 0, {lang: back}, unspaced=[lang])
    assert (table.covered > 0).all()
    covered, switched = table.covered.sum(), table.switched.sum()
    assert covered > 5000
    assert abs(switched / covered - 0.15) < 0.02  # sd ≈ 0.005
    unchanged = table.prompt == kept.translation
    assert unchanged.equals(table.switched == 0)
    assert table.prompt[~unchanged].str.contains("[a-z]").all()  # English words went in


def test_switch_table_x_to_english_uses_the_back_dictionary():
    answers = pd.DataFrame({"id": ["a"], "question": ["the house"]})
    kept = pd.DataFrame(
        {"id": ["a"], "lang": ["de"], "field": ["question"], "translation": ["das Haus"]}
    )
    there = {"house": ["Haus"]}
    table = switch_table(answers, kept, {"de": there}, 1.0, 0, back={"de": {"haus": ["home"]}})
    assert table.set_index("direction").prompt.to_dict() == {
        "en-de": "the Haus",
        "de-en": "das home",
    }
    inverted = switch_table(answers, kept, {"de": there}, 1.0, 0)
    assert inverted.set_index("direction").prompt["de-en"] == "das house"


def test_toy_back_dictionary_file_is_the_inverted_dictionary(tmp_path):
    """The toy world writes <lang>-en.txt: the codeswitch table is what inverting gave."""
    for lang in ("qa", "qb"):
        pairs = toy_dictionary(lang, 0)
        (tmp_path / f"en-{lang}.txt").write_text(muse_text(pairs))
        (tmp_path / f"{lang}-en.txt").write_text(muse_text(reverse_pairs(pairs)))
        there, back = read_dictionaries(tmp_path, [lang])
        assert back[lang] == invert(there[lang])


def kept_rows(rows):
    return pd.DataFrame(rows, columns=["id", "lang", "field", "translation"])


def test_tl_needs_only_the_question_and_lt_only_the_answer():
    english = qa(4)
    kept = kept_rows(
        [
            ("q0", "id", "question", "T-Q0"),
            ("q0", "id", "reference", "T-A0"),
            ("q1", "id", "question", "T-Q1"),  # its answer was filtered out
            ("q1", "id", "self", "T-S1"),  # the other answer: not the one this pair uses
            ("q2", "id", "reference", "T-A2"),  # its question was filtered out
            ("q3", "id", "self", "T-S3"),
        ]
    )
    pairs = translated_pairs(kept, "reference")
    assert pairs.set_index("id").to_dict("index") == {
        "q0": {"lang": "id", "prompt": "T-Q0", "completion": "T-A0"},
        "q1": {"lang": "id", "prompt": "T-Q1", "completion": None},
        "q2": {"lang": "id", "prompt": None, "completion": "T-A2"},
    }
    out = subsets(english, pairs)
    rows = {k: v.set_index("id")[["prompt", "completion"]].values.tolist() for k, v in out.items()}
    assert rows["TL"] == [["T-Q0", "ref q0"], ["T-Q1", "ref q1"]]
    assert rows["LT"] == [["Q q0", "T-A0"], ["Q q2", "T-A2"]]
    assert rows["TT"] == [["T-Q0", "T-A0"]]
    assert out["TL"].id.tolist() == ["q0:TL:id", "q1:TL:id"]
    per_id = translated_pairs(kept, pd.Series({"q0": "reference", "q1": "self", "q3": "self"}))
    assert per_id.set_index("id").completion.to_dict() == {
        "q0": "T-A0",
        "q1": "T-S1",
        "q3": "T-S3",
    }


def test_parallel_pairs_from_the_parallel_table(tmp_path):
    rows = pd.DataFrame(
        {
            "id": [f"p{k}" for k in range(6)],
            "split": "train",
            "src_lang": ["en", "en", "en", "de", "fr", "fr"],
            "tgt_lang": ["de", "de", "de", "en", "de", "de"],
            "source": [f"s{k}" for k in range(6)],
            "reference": [f"r{k}" for k in range(6)],
        }
    )
    pairs = parallel_pairs(rows, 2, ["de"], seed=0)
    assert set(pairs.id) <= {"p0", "p1", "p2"} and len(pairs) == 2
    french = parallel_pairs(rows, 2, ["de"], seed=0, source="fr")
    assert french[["id", "en", "target"]].values.tolist() == [
        ["p4", "s4", "r4"],
        ["p5", "s5", "r5"],
    ]
    with pytest.raises(RadisError, match="3 asked, the parallel data has 2 fr-de pairs"):
        parallel_pairs(rows, 3, ["de"], seed=0, source="fr")
