"""SDRRL's stages on the toy world, end to end, and every data construction they make."""

import copy
import random
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from radis.core.io import RadisError, read_json, read_table, write_table
from radis.core.params import MODEL_DIR
from radis.core.schemas import (
    CODESWITCH,
    SDRRL_ANSWERS,
    SDRRL_KEPT,
    SDRRL_MT,
    SFT,
    TRAIN_SET,
    TRANSLATION,
)
from radis.data.build import Folders, read_inputs
from radis.sdrrl.codeswitch import switch_table
from radis.sdrrl.filter import filter_translations
from radis.sdrrl.recipes import (
    COMP_TEMPLATE,
    MT_TEMPLATE,
    SdrrlInputs,
    SdrrlMethodConfig,
    build_sdrrl,
    ll_language,
    mt_rows,
    parallel_pairs,
    switch_parts,
    synthetic,
    translated_pairs,
)
from radis.sdrrl.selfanswer import SelfAnswerConfig, sample_questions
from radis.toy import lexicon as lx
from radis.toy.sdrrl import dictionary, identify, quality
from stages import codeswitch, filter, machine_translate, selfanswer, toy_dictionary

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS, PAIRS, LANGS = 12, 10, ["qa", "qb"]
#: The params sections the SDRRL stages read (proposed for params.yaml), at test sizes.
SDRRL_PARAMS = {
    "selfanswer": {"questions": QUESTIONS, "generation": {"max_new_tokens": 8}},
    "machine_translate": {"model": "toy", "toy": {"word_noise": 0.2, "english_rate": 0.2}},
    "filter": {"qe": "toy", "threshold": 0.8, "lid": "toy"},
    "codeswitch": {"p": 0.15, "dictionaries": "data/toy/dictionaries"},
}
BUILD = {
    "sdrrl": {"recipe": "sdrrl", "parallel_pairs": PAIRS},
    "sft": {"recipe": "sft"},
    "t-sft": {"recipe": "t-sft"},
    "cit": {"recipe": "cit"},
    "xcot": {"recipe": "xcot"},
}


def invoke(app, *args):
    """Run a stage's Typer app in this process."""
    return CliRunner().invoke(app, list(args))


def write_params(root: Path, **changes):
    params = yaml.safe_load((ROOT / "params.yaml").read_text()) | copy.deepcopy(SDRRL_PARAMS)
    params["base"] |= {"languages": LANGS, "shard_rows": 8}
    params["build"] = params["build"] | copy.deepcopy(BUILD)
    params["methods"] = ["sdrrl"]
    params["selfanswer"]["enabled"] = True  # else SDRRL's data stages stay idle
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = params
        for key in parents:
            node = node[key]
        node[last] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(scope="module")
def run(tmp_path_factory, world, model_dir):
    """The SDRRL stages run in order in a fresh folder, as dvc would run them."""
    root = tmp_path_factory.mktemp("sdrrl")
    write_params(root)
    shutil.copytree(model_dir, root / MODEL_DIR)
    write_table(world["instructions"], root / "data/fetch/instructions.parquet", SFT)
    for name in ("translation", "parallel"):  # parallel: D_mt's and D_comp's source
        write_table(world["parallel"], root / f"data/fetch/{name}.parquet", TRANSLATION)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        for app in (toy_dictionary.app, selfanswer.app):
            result = invoke(app)
            assert result.exit_code == 0, result.output
        shutil.copy(SELF, SELF.with_name("generated.parquet"))
        answers = read_table(SELF, SDRRL_ANSWERS)
        write_table(answers.assign(answer=own_answers(answers)), SELF, SDRRL_ANSWERS)
        steps = [(stage.app, [lang]) for stage in (machine_translate, filter) for lang in LANGS]
        for app, args in steps + [(codeswitch.app, [])]:
            result = invoke(app, *args)
            assert result.exit_code == 0, result.output
    return root


#: The self-answer table (relative to the run folder).
SELF = Path("data/sdrrl/selfanswer.parquet")


def own_answers(answers: pd.DataFrame) -> list[str]:
    """Stand-in self answers: the tiny random backbone's are empty (it emits no text), so the
    stages after selfanswer get answers a backbone could give, one in four left empty."""
    return [
        "" if k % 4 == 0 else f"I think: {ref.lower()}" for k, ref in enumerate(answers.reference)
    ]


def tables(root):
    answers = read_table(root / "data/sdrrl/selfanswer.parquet", SDRRL_ANSWERS)
    mt = {
        x: read_table(root / f"data/sdrrl/machine_translate/{x}.parquet", SDRRL_MT) for x in LANGS
    }
    kept = {x: read_table(root / f"data/sdrrl/filter/{x}.parquet", SDRRL_KEPT) for x in LANGS}
    return answers, mt, kept


def folders(root) -> Folders:
    data = root / "data"
    return Folders(data / "fetch", data / "rationales", data / "selfgen", data / "sdrrl")


def inputs(root, recipe):
    cfg = SdrrlMethodConfig(**BUILD[recipe])
    return cfg, SdrrlInputs(**read_inputs(cfg, folders(root), LANGS), languages=LANGS)


def subset_of(table):
    return table.id.str.rsplit(":", n=2).str[1]


def test_selfanswer_samples_questions_with_their_references(run, world):
    answers = read_table(run / SELF.with_name("generated.parquet"), SDRRL_ANSWERS)
    instructions = pd.DataFrame(world["instructions"]).set_index("id")
    assert len(answers) == QUESTIONS and answers.id.is_unique
    assert answers.question.tolist() == instructions.prompt[answers.id].tolist()
    assert answers.reference.tolist() == instructions.completion[answers.id].tolist()
    assert all(p.rstrip().endswith("assistant") for p in answers.prompt)  # ChatML header
    assert set(answers.finish_reason) <= {"stop", "length"}


def test_sample_questions_exact_seeded_and_bounded():
    df = pd.DataFrame({"id": [f"i{k:04d}" for k in range(500)], "prompt": "q", "completion": "a"})
    a, b = sample_questions(df, 50, 0), sample_questions(df[::-1], 50, 0)
    assert len(a) == 50 and a.id.tolist() == b.id.tolist() == sorted(a.id)
    assert a.id.tolist() != sample_questions(df, 50, 1).id.tolist()
    assert len(sample_questions(df, 0, 0)) == 500
    with pytest.raises(Exception, match="selfanswer.questions: 501 asked"):
        sample_questions(df, 501, 0)


def test_translate_writes_every_text_of_every_question(run):
    answers, mt, _ = tables(run)
    for lang, table in mt.items():
        assert set(table.lang) == {lang}
        expected = 2 * QUESTIONS + int((answers.answer.str.strip() != "").sum())
        assert len(table) == expected
        by_field = table.set_index(["field", "id"]).source
        assert by_field["question"][answers.id].tolist() == answers.question.tolist()
        assert by_field["reference"][answers.id].tolist() == answers.reference.tolist()


def test_filter_drops_exactly_what_is_below_threshold_or_off_target(run):
    _, mt, kept = tables(run)
    for lang in LANGS:
        table = mt[lang]
        qe = quality(table.source.tolist(), table.translation.tolist(), lang, 0)
        found = [identify(t) for t in table.translation]
        good = {
            (i, f) for i, f, q, d in zip(table.id, table.field, qe, found) if q >= 0.8 and d == lang
        }
        assert set(zip(kept[lang].id, kept[lang].field)) == good
        assert (kept[lang].qe >= 0.8).all() and (kept[lang].detected == lang).all()
        counts = read_json(run / f"metrics/sdrrl/filter/{lang}.json")
        assert counts["kept"] == len(good) and counts["rows"] == len(table)
        assert counts["below_threshold"] == sum(q < 0.8 for q in qe) > 0
        assert counts["off_target"] == sum(d != lang for d in found) > 0
        assert sum(counts[f]["kept"] for f in ("question", "reference", "self")) == len(good)


def test_filter_counts_on_crafted_scores():
    table = pd.DataFrame(
        {"id": list("abcdef"), "lang": "qa", "field": ["question"] * 3 + ["self"] * 3}
    ).assign(source="s", translation="t", finish_reason="stop")
    qe = [0.95, 0.8, 0.7999, float("nan"), 0.9, 0.1]
    detected = ["qa", "qa", "qa", "qa", "en", "en"]
    kept, counts = filter_translations(table, qe, detected, 0.8)
    assert kept.id.tolist() == ["a", "b"]
    assert counts["rows"] == 6 and counts["kept"] == 2 and counts["dropped"] == 4
    assert counts["below_threshold"] == 3 and counts["off_target"] == 2
    assert counts["self"] == dict(rows=3, kept=0, below_threshold=2, off_target=2, dropped=3)


def test_codeswitch_table_switches_only_covered_tokens(run):
    answers, _, kept = tables(run)
    table = read_table(run / "data/sdrrl/codeswitch.parquet", CODESWITCH)
    dicts = {x: dict(dictionary(x, 0)) for x in LANGS}
    for lang in LANGS:
        en = table[table.direction == f"en-{lang}"].set_index("id")
        assert sorted(en.index) == sorted(answers.id)
        for q_id, question in zip(answers.id, answers.question):
            for old, new in zip(question.split(), en.prompt[q_id].split(), strict=True):
                core = re.sub(r"^\W+|\W+$", "", old).lower()
                assert old == new or dicts[lang][core] in new
        back = table[table.direction == f"{lang}-en"]
        questions = kept[lang][kept[lang].field == "question"]
        assert sorted(back.id) == sorted(questions.id)
    summary = read_json(run / "metrics/sdrrl/codeswitch.json")
    assert summary["en-qa"]["switched"] == int(table[table.direction == "en-qa"].switched.sum())


def test_codeswitch_rate_is_close_to_p():
    """2,000 toy questions: ~8,000 covered tokens, switched with p = 0.15 (sd ≈ 0.004)."""
    rng = random.Random(0)
    nouns, adjs = lx.NOUNS, lx.ADJECTIVES
    questions = [
        f"Why does the {rng.choice(adjs)} {rng.choice(nouns)} see a {rng.choice(nouns)}?"
        for _ in range(2000)
    ]
    answers = pd.DataFrame({"id": [f"q{k}" for k in range(2000)], "question": questions})
    kept = pd.DataFrame(columns=["id", "lang", "field", "translation"])
    dicts = {"qa": {}}
    for en, tgt in dictionary("qa", 0):
        dicts["qa"].setdefault(en, []).append(tgt)
    table = switch_table(answers, kept, dicts, 0.15, seed=0)
    assert table.covered.sum() == 4 * 2000  # "the" has no qa entry: adj, noun, see, noun
    assert abs(table.switched.sum() / table.covered.sum() - 0.15) < 0.02
    again = switch_table(answers[::-1], kept, dicts, 0.15, seed=0)
    assert (
        again.set_index("id").prompt.sort_index().equals(table.set_index("id").prompt.sort_index())
    )


def test_sdrrl_row_counts_per_subset_and_parallel_data(run):
    cfg, data = inputs(run, "sdrrl")
    out = build_sdrrl(cfg, data, seed=0)
    synth = synthetic(data.answers, 0)
    pairs = translated_pairs(data.kept, synth.set_index("id").source)
    counts = subset_of(out).value_counts().to_dict()
    assert counts["LL"] == QUESTIONS
    # D_TL needs only T(x), D_LT only T(y), D_TT both (the toy filters drop some of each)
    has_q, has_a = pairs.prompt.notna(), pairs.completion.notna()
    assert (has_q & ~has_a).any() and (has_a & ~has_q).any()
    assert counts["TL"] == has_q.sum() and counts["LT"] == has_a.sum()
    assert counts["TT"] == (has_q & has_a).sum() > 0
    assert counts["mt"] == 2 * PAIRS * len(LANGS) and counts["comp"] == PAIRS * len(LANGS)
    assert out.id.is_unique and list(out.columns)[:1] == ["id"]
    write_table(out, run / "sdrrl.parquet", TRAIN_SET)  # fits the training-set schema
    assert (out.masked_suffix == "").all()
    # The trainer averages each subset's tokens separately and sums the six means.
    assert (out.group == out.subset).all() and set(out.group) == set(subset_of(out))
    assert sorted(set(out.group)) == sorted(["LL", "TL", "LT", "TT", "mt", "comp"])
    mt = out[out.subset == "mt"]
    en_qa = mt[mt.id.str.endswith(":mt:en-qa")]
    assert en_qa.prompt.str.startswith(
        "Translate the following sentence from English to Aurish.\n"
    ).all()
    assert (
        out[out.subset == "comp"]
        .prompt.str.startswith(COMP_TEMPLATE.split("{prefix}")[0].format(lang="Aurish"))
        .any()
    )


def test_sdrrl_code_switches_questions_only(run):
    cfg, data = inputs(run, "sdrrl")
    switched = build_sdrrl(cfg, data, seed=0).set_index("id")
    plain = build_sdrrl(SdrrlMethodConfig(parallel_pairs=PAIRS, code_switch=False), data, 0)
    plain = plain.set_index("id")
    assert switched.index.equals(plain.index)
    assert switched.completion.equals(plain.completion)
    assert (switched.prompt != plain.prompt).any()
    lookup = data.switched.set_index(["id", "direction"]).prompt
    for row_id, row in switched[switched.subset.isin(["LL", "TL", "LT", "TT"])].iterrows():
        qid, subset, lang = row_id.rsplit(":", 2)
        direction = {"LL": f"en-{ll_language(qid, LANGS, 0)}", "LT": f"en-{lang}"}.get(
            subset, f"{lang}-en"
        )
        assert row.prompt == lookup[(qid, direction)]
    ll = plain[plain.subset == "LL"]
    synth = synthetic(data.answers, 0).set_index("id")
    assert ll.completion.tolist() == synth.completion[ll.index.str.split(":").str[0]].tolist()
    assert ll.prompt.tolist() == synth.prompt[ll.index.str.split(":").str[0]].tolist()


def test_transfer_set_and_ll_language_proportions():
    n = 2000
    answers = pd.DataFrame(
        {
            "id": [f"q{k:04d}" for k in range(n)],
            "question": "q",
            "reference": "ref",
            "answer": ["" if k % 10 == 0 else "own" for k in range(n)],
        }
    )
    synth = synthetic(answers, seed=0)
    own = synth.completion == "own"
    assert ((synth.source == "self") == own).all()  # empty self answers fall back
    assert abs(own.mean() - 0.9 * 0.5) < 0.04  # 1,800 fair coins: sd ≈ 0.011 of 0.9
    share = sum(ll_language(i, LANGS, 0) == "qa" for i in answers.id) / n
    assert abs(share - 0.5) < 0.04


def test_parallel_pairs_exact_and_checked(world):
    parallel = pd.DataFrame(world["parallel"])
    train = parallel[parallel.split == "train"]
    pairs = parallel_pairs(train, 7, LANGS, 0)
    assert pairs.lang.value_counts().to_dict() == {"qa": 7, "qb": 7}
    row = train.set_index("id").loc[pairs.id.iloc[0]]
    assert (row.source, row.reference) == (pairs.en.iloc[0], pairs.target.iloc[0])
    with pytest.raises(Exception, match="parallel_pairs: 21 asked"):
        parallel_pairs(train, 21, LANGS, 0)


def test_baselines(run):
    answers = tables(run)[0]
    data = inputs(run, "xcot")[1]
    pairs = translated_pairs(data.kept, "reference")
    built = {m: build_sdrrl(inputs(run, m)[0], inputs(run, m)[1], 0) for m in BUILD if m != "sdrrl"}
    assert all((t.group == "").all() for t in built.values())  # one token mean, as the paper
    sft = built["sft"]
    assert sft.prompt.tolist() == answers.question.tolist()
    assert sft.completion.tolist() == answers.reference.tolist()
    counts = {m: subset_of(t).value_counts().to_dict() for m, t in built.items()}
    q_kept, a_kept = pairs.prompt.notna(), pairs.completion.notna()
    tt, tl, lt = int((q_kept & a_kept).sum()), int(q_kept.sum()), int(a_kept.sum())
    assert counts["t-sft"] == {"LL": QUESTIONS, "TT": tt}
    # CIT (SDRRL Sec. 4.1): "respond in the target language given the source language as
    # context": the English question, the translated answer; no target -> English rows.
    assert counts["cit"] == {"LT": lt}
    assert counts["xcot"] == {"LL": QUESTIONS, "TL": tl, "TT": tt}
    cit = built["cit"].set_index("id")[["prompt", "completion"]]
    q = pairs[q_kept & a_kept].iloc[0]
    reference = answers.set_index("id").reference[q.id]
    name = {"qa": "Aurish", "qb": "Bexic"}[q.lang]
    question = answers.set_index("id").question[q.id]
    assert cit.loc[f"{q.id}:LT:{q.lang}"].tolist() == [
        f"{question}\nAnswer in {name}.",
        q.completion,
    ]
    xcot = built["xcot"].set_index("id")
    assert xcot.loc[f"{q.id}:TL:{q.lang}"].completion == reference
    tt = built["t-sft"].set_index("id")[["prompt", "completion"]].loc[f"{q.id}:TT:{q.lang}"]
    assert tt.tolist() == [q.prompt, q.completion]
    plain = build_sdrrl(SdrrlMethodConfig(recipe="cit", answer_directive=""), data, 0)
    assert set(plain.prompt) <= set(answers.question)
    for bad in ("Answer in {lang}.", "{0}"):
        with pytest.raises(ValueError, match="answer_directive"):
            SdrrlMethodConfig(recipe="cit", answer_directive=bad)


def test_sdrrl_needs_only_its_tables(run):
    cfg, data = inputs(run, "sft")
    assert data.kept is None and data.switched is None and data.parallel is None
    assert set(read_inputs(SdrrlMethodConfig(recipe="t-sft"), folders(run), LANGS)) == {
        "answers",
        "kept",
    }


def test_templates_match_the_method_spec():
    spec = ROOT.parent / "shared" / "METHODS.md"
    if not spec.is_file():
        pytest.skip("../shared/METHODS.md is absent (a fresh clone): no spec to compare with")
    text = spec.read_text()
    mt = MT_TEMPLATE.format(lang1="English", lang2="Indonesian", source="{source}")
    comp = COMP_TEMPLATE.format(lang="Indonesian", prefix="{prefix}")
    assert f"Question: {mt}".replace("\n", "\\n") in text
    assert f"Question: {comp}".replace("\n", "\\n") in text


@pytest.mark.parametrize(
    ("stage", "args", "change", "fragment"),
    [
        (machine_translate, ["xx"], {}, "'xx' is not in params.yaml base.languages"),
        (filter, ["qa"], {"filter.qe": "bleu"}, "filter.qe: 'bleu' is not one of"),
        (codeswitch, [], {"codeswitch.dictionaries": "nowhere"}, "en-qa.txt: dictionary file"),
        (selfanswer, [], {"selfanswer.questions": 10**6}, "selfanswer.questions: 1000000 asked"),
    ],
)
def test_stage_errors_are_one_line(run, tmp_path, stage, args, change, fragment):
    shutil.copytree(run / "data", tmp_path / "data")
    write_params(tmp_path, **change)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        result = invoke(stage.app, *args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def test_filter_stage_refuses_to_drop_everything(run, tmp_path):
    shutil.copytree(run / "data", tmp_path / "data")
    write_params(tmp_path)
    path = tmp_path / "data/sdrrl/machine_translate/qa.parquet"
    copies = read_table(path, SDRRL_MT)
    write_table(copies.assign(translation=copies.source), path, SDRRL_MT)  # all off target
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        result = invoke(filter.app, "qa")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: filter: every translation into 'qa' was dropped "
        f"({len(copies)} below filter.threshold, {len(copies)} off target)"
    )
    assert not (tmp_path / "metrics/sdrrl/filter/qa.json").exists()


def test_data_stages_idle_unless_enabled(tmp_path, monkeypatch):
    write_params(tmp_path, **{"selfanswer.enabled": False})
    monkeypatch.chdir(tmp_path)
    result = invoke(selfanswer.app)
    assert result.exit_code == 0, result.output
    assert "selfanswer.enabled is false" in result.stderr
    assert read_table(SELF, SDRRL_ANSWERS, allow_empty=True).empty
    for app, args in ((machine_translate.app, ["qa"]), (filter.app, ["qa"]), (codeswitch.app, [])):
        result = invoke(app, *args)
        assert result.exit_code == 0 and "selfanswer.enabled is false" in result.stderr
    assert read_table("data/sdrrl/codeswitch.parquet", CODESWITCH, allow_empty=True).empty


def test_source_language_names_the_source_side_of_mt_and_code_switching():
    pairs = pd.DataFrame({"id": ["p0"], "lang": ["qa"], "en": ["le roi."], "target": ["rian."]})
    mt = mt_rows(pairs, source="fr").set_index("id")
    assert mt.loc["p0:mt:fr-qa"].prompt.startswith("Translate the following sentence from French")
    assert mt.loc["p0:mt:qa-fr"].prompt.startswith("Translate the following sentence from Aurish")
    assert mt.loc["p0:mt:qa-fr"].prompt.split(" to ")[1].startswith("French.")
    parts = {
        "LL": pd.DataFrame({"id": ["q1:LL:fr"], "lang": ["fr"], "prompt": ["x"]}),
        "LT": pd.DataFrame({"id": ["q1:LT:qa"], "lang": ["qa"], "prompt": ["x"]}),
        "TL": pd.DataFrame({"id": ["q1:TL:qa"], "lang": ["qa"], "prompt": ["y"]}),
    }
    switched = pd.DataFrame(
        {"id": ["q1", "q1"], "direction": ["fr-qa", "qa-fr"], "prompt": ["x'", "y'"]}
    )
    out = switch_parts(parts, switched, ["qa"], 0, source="fr")
    assert [out[k].prompt.iloc[0] for k in ("LL", "LT", "TL")] == ["x'", "x'", "y'"]
    with pytest.raises(RadisError, match="no question"):
        switch_parts(parts, switched, ["qa"], 0)  # English directions: not in the table
    with pytest.raises(ValueError, match="source_language: unknown language 'xx'"):
        SelfAnswerConfig(source_language="xx")
