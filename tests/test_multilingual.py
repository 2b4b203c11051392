"""SDRRL's evaluation: scoring rules, the language table, lm-eval end to end on local mirrors."""

import json
import math
from urllib.error import URLError

import pandas as pd
import pytest
import yaml
from conftest import COMET_PYTHON
from lm_eval.api.model import LM
from multilingual_mirror import MKQA, make_mirror
from stage_runner import assert_one_line_error, run_stage
from test_stages import ROOT, set_param

from radis.core.io import RadisError, read_table, write_table
from radis.core.schemas import GENERAL, MULTILINGUAL_PREDICTION
from radis.core.templates import LANGUAGES
from radis.evaluate import multilingual_tasks
from radis.evaluate.bleu import bleu_metric, corpus_bleu
from radis.evaluate.comet import CometConfig
from radis.evaluate.multilingual import CODES, MultilingualConfig, codes, load_rows, mkqa_answers
from radis.evaluate.multilingual_metrics import (
    mkqa_f1,
    mkqa_tokens,
    offtarget,
    snowball,
    xlsum_rouge,
    xlsum_tokens,
)
from radis.evaluate.multilingual_suite import evaluate_multilingual, lid_candidates
from radis.toy.sdrrl import toy_languages

# --- scoring rules, hand-computed ---------------------------------------------------------


# MKQA's official script (apple/ml-mkqa, mkqa_eval_util.py and its tests) on the same inputs


@pytest.mark.parametrize(
    "text,key,expected",
    [
        ("The Eiffel Tower!", "en", ["eiffel", "tower"]),
        ("ez egy alma", "hu", ["ez", "alma"]),  # Hungarian articles a, az, egy
        ("en bil og et hus", "da", ["bil", "og", "hus"]),
        ("ei bok", "no", ["bok"]),  # Norwegian is MKQA's "no"
        ("o gato e a casa", "pt", ["gato", "e", "casa"]),
        ("der Hund, die Katze", "de", ["hund", "katze"]),
        ("¿Dónde?", "en", ["¿dónde"]),  # only ASCII punctuation goes
        ("Paris «France»", "ru", ["paris", "«france»"]),
        ("这个 苹果 ab", "zh_cn", ["这", "个", "苹", "果", "a", "b"]),  # every character
        ("東京 タワー", "ja", ["東", "京", "タ", "ワ", "ー"]),
        ("서울 특별시", "ko", ["서울", "특별시"]),  # Korean: at spaces
    ],
)
def test_mkqa_tokens_follow_the_official_normalisation(text, key, expected):
    assert mkqa_tokens(text, key) == expected


@pytest.mark.parametrize(
    "prediction,answers,key,expected",
    [
        ("first dummy answer", ["first dummy answer", "second dummy answer"], "en", 1.0),
        ("alternative answer", ["dummy answer one", "alternative answer two"], "en", 0.8),
        ("an answer ?? without stopwords", ["answer -- without, stopwords!!"], "en", 1.0),
        ("", ["first dummy answer"], "en", 0.0),
        ("ez egy alma", ["ez alma", "ez egy újabb alma"], "hu", 1.0),
        ("这个一个苹果", ["这是还是苹果", "这是另一个苹果"], "zh_cn", 0.7692307692307692),
        ("នេះគឺជាផ្លែប៉ោម", ["នេះគឺជាផ្លែប៉ោមមួយទៀត"], "km", 0.8333333333333333),
        ("a a b", ["a b b"], "pl", 2 / 3),  # shared tokens with multiplicity
        ("en hund", ["hund"], "da", 1.0),  # the Danish article goes
    ],
)
def test_mkqa_f1_matches_the_official_script(prediction, answers, key, expected):
    assert mkqa_f1(prediction, answers, key) == pytest.approx(expected)


def test_mkqa_f1_keeps_what_the_script_keeps():
    # a plain SQuAD-style rule would keep Danish articles (2/3) and drop «» (1.0)
    assert mkqa_f1("en hund", ["hund"], "da") == 1.0
    assert mkqa_f1("«Paris»", ["Paris"], "ru") == 0.0  # the script keeps «»
    with pytest.raises(ValueError, match="no gold answer"):
        mkqa_f1("x", [], "en")


def test_xlsum_tokens_follow_the_multilingual_rouge_rules():
    assert xlsum_tokens("The Cat, sat! covid19 «Дождь» l'homme 3.5€") == [
        *("the", "cat", "sat", "covid", "19", "дождь", "l", "homme", "3", "5", "€")
    ]
    assert xlsum_tokens("北京大学 2024年 ひらがな") == [
        *("北", "京", "大", "学", "2024", "年", "ひ", "ら", "が", "な")
    ]
    assert xlsum_tokens("한국어 단어 हिन्दी a\x0bb") == ["한국어", "단어", "हिन्दी", "ab"]
    english = snowball("english")
    assert xlsum_tokens("Running runners ran", english) == ["run", "runner", "ran"]
    assert xlsum_tokens("cats", english) == ["cat"] and xlsum_tokens("was", english) == ["was"]
    assert snowball("ukrainian") is None and snowball("chinese_simplified") is None


def test_xlsum_rouge_stems_in_the_language():
    # stems match: "rising rivers" and "river rises" share "river" and "rise"
    assert xlsum_rouge(["Rising rivers"], ["The river rises."], "english") == [
        pytest.approx({"rouge1": 0.8, "rougeL": 0.4})
    ]
    # Russian: реку/река share the stem "рек"; Ukrainian has no stemmer in XL-SUM
    assert xlsum_rouge(["река"], ["реку"], "russian")[0]["rouge1"] == 1.0
    assert xlsum_rouge(["река"], ["реку"], "ukrainian")[0]["rouge1"] == 0.0
    assert xlsum_rouge(["b a c"], ["a b c"], None)[0] == pytest.approx(
        {"rouge1": 1.0, "rougeL": 2 / 3}
    )


def test_offtarget_counts_other_languages_but_not_undetermined_answers():
    assert offtarget(["ru", "en", "und", "ru"], "ru") == 25.0
    assert offtarget(["und"], "ja") == 0.0
    with pytest.raises(ValueError, match="no answer"):
        offtarget([], "ru")


def test_lid_candidates_leave_out_what_lingua_cannot_identify(capsys):
    assert lid_candidates(["km", "ru"], []) == ["en", "ru"]
    assert "lingua cannot identify ['km']: no off-target rate" in capsys.readouterr().err
    assert lid_candidates(["ru"], ["uk"]) == ["en", "ru", "uk"]
    with pytest.raises(ValueError, match="lid_languages: lingua has no language 'km'"):
        MultilingualConfig(lid_languages=["km"])


def test_corpus_bleu_and_tokenizer_errors():
    assert (
        corpus_bleu(
            bleu_metric("13a"), ["the cat sat on the mat ."] * 2, ["the cat sat on the mat ."] * 2
        )
        == 100.0
    )
    with pytest.raises(RadisError, match="unknown tokenizer 'nope'"):
        bleu_metric("nope")


@pytest.fixture
def offline_sacrebleu(tmp_path, monkeypatch):
    """sacreBLEU with an empty model folder and a download that fails as it does offline."""
    from sacrebleu.tokenizers import tokenizer_spm

    def fail(url, path):
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path / "sacrebleu"))
    monkeypatch.setattr(tokenizer_spm, "download_file", fail)


def test_flores200_download_failure_is_one_clear_line(offline_sacrebleu):
    with pytest.raises(RadisError) as err:
        bleu_metric("flores200")
    message = str(err.value)
    assert "\n" not in message
    assert "sacreBLEU tokenizer 'flores200' unavailable" in message
    assert "Name or service not known" in message and "network access" in message


def test_missing_tokenizer_stops_flores_before_any_generation(offline_sacrebleu, tmp_path):
    cfg = MultilingualConfig(benchmarks=["flores"], mirror=str(make_mirror(tmp_path / "m")))
    with pytest.raises(RadisError, match="'flores200' unavailable"):
        evaluate_multilingual(None, ["cs"], cfg, seed=0)  # no model: it must not get that far


def test_mkqa_answers_keep_short_answers_and_aliases():
    answers = {
        "en": [
            {"type": 0, "entity": "Q1", "text": "Ana Stone", "aliases": ["A. Stone"]},
            {"type": 2, "entity": "", "text": "", "aliases": None},  # unanswerable
        ],
        "de": [{"type": "long_answer", "entity": "", "text": "Ein langer Text", "aliases": []}],
    }
    assert mkqa_answers(answers, "en") == ["Ana Stone", "A. Stone"]
    assert mkqa_answers(answers, "de") == []
    assert mkqa_answers(answers, "ru") == []


# --- the language table --------------------------------------------------------------------


def test_language_table_covers_every_real_language_with_lm_eval_tasks():
    real = [x for x in LANGUAGES if not toy_languages([x])]
    assert sorted(CODES) == sorted(real)
    for lang in CODES:
        assert multilingual_tasks.belebele_yaml(codes(lang).belebele).is_file()
    zh = codes("zh")
    assert (zh.flores, zh.belebele, zh.xlsum, zh.mkqa) == (
        "cmn_Hans",  # FLORES+ renamed Chinese to Mandarin
        "zho_Hans",  # BELEBELE keeps FLORES-200's code
        "chinese_simplified",
        "zh_cn",
    )
    assert codes("cs").xlsum is None and codes("cs").mkqa is None
    assert codes("nb").mkqa == "no"


def test_unknown_language_is_one_line_before_any_model_work():
    with pytest.raises(RadisError) as err:
        evaluate_multilingual(None, ["cs", "xx"], MultilingualConfig(), seed=0)
    assert str(err.value).startswith(
        "params.yaml: base.languages: no SDRRL evaluation data for language 'xx'; known: ["
    )


def test_missing_mirror_dataset_is_one_line(tmp_path):
    cfg = MultilingualConfig(mirror=str(tmp_path))
    with pytest.raises(RadisError, match="multilingual.mirror: csebuetnlp/xlsum: .* not found"):
        load_rows(cfg.xlsum, "english", cfg.mirror)


def test_missing_config_is_one_line(tmp_path):
    cfg = MultilingualConfig(mirror=str(make_mirror(tmp_path)))
    with pytest.raises(RadisError) as err:
        load_rows(cfg.xlsum, "czech", cfg.mirror)
    assert str(err.value).startswith("params.yaml: multilingual: csebuetnlp/xlsum (czech, test): ")
    assert "\n" not in str(err.value)


def test_mirrors_load_in_the_hub_layouts(tmp_path):
    cfg = MultilingualConfig(mirror=str(make_mirror(tmp_path)))
    flores = load_rows(cfg.flores, "ces_Latn", cfg.mirror)
    assert flores.text.tolist()[0] == "Kočka spí." and "iso_639_3" in flores.columns
    xlsum = load_rows(cfg.xlsum, "russian", cfg.mirror)  # a folder of the Parquet export
    assert xlsum.columns.tolist() == ["id", "url", "title", "summary", "text"]
    mkqa = load_rows(cfg.mkqa, "mkqa", cfg.mirror)
    assert len(mkqa) == len(MKQA) and len(mkqa.queries.iloc[0]) == 26


# --- lm-eval end to end with a scripted model: exact scores -------------------------------


class ScriptedLM(LM):
    """Answers every item with a rule of the test: right for most, wrong where stated."""

    def generate_until(self, requests, disable_tqdm=False):
        out = []
        for request in requests:
            doc = request.doc
            if "from Russian to English" in doc["prompt"]:
                out.append("No idea.")  # ru-en FLORES: wrong
            elif doc["target"] == "1990" and "in English" in doc["prompt"]:
                out.append("in 1990\nmore text")  # MKQA en: first line, F1 2/3
            else:
                out.append(doc["target"])
        return out

    def loglikelihood(self, requests, disable_tqdm=False):
        out = []
        for request in requests:
            doc, choice = request.doc, request.args[1].strip()
            right = "ABCD"[int(doc["correct_answer_num"]) - 1]
            pick = "A" if doc["dialect"] == "rus_Cyrl" and right != "A" else right  # ru: wrong
            out.append((0.0 if choice == pick else -5.0, False))
        return out

    def loglikelihood_rolling(self, requests, disable_tqdm=False):
        raise NotImplementedError


def test_scores_through_lm_eval_with_a_scripted_model(tmp_path):
    cfg = MultilingualConfig(
        mirror=str(make_mirror(tmp_path)), apply_chat_template=False, tokenize="13a"
    )
    scores, preds = evaluate_multilingual(ScriptedLM(), ["cs", "ru"], cfg, seed=0)
    assert scores == {
        "belebele.cs": 100.0,
        "belebele.ru": 0.0,
        "belebele.en": 100.0,
        "belebele.xx": 50.0,
        "flores.en-cs.bleu": 100.0,
        "flores.cs-en.bleu": 100.0,
        "flores.en-ru.bleu": 100.0,
        "flores.ru-en.bleu": 0.0,
        "flores.xx-en.bleu": 50.0,
        "flores.en-xx.bleu": 100.0,
        "xlsum.ru.rouge1": 100.0,  # XL-SUM and MKQA have no Czech: skipped
        "xlsum.ru.rougeL": 100.0,
        "xlsum.en.rouge1": 100.0,
        "xlsum.en.rougeL": 100.0,
        "xlsum.xx.rouge1": 100.0,
        "xlsum.xx.rougeL": 100.0,
        "mkqa.ru.f1": 100.0,
        "mkqa.en.f1": 83.33,  # (1 + 2/3) / 2: the unanswerable and long answers are left out
        "mkqa.xx.f1": 100.0,
        # every generated answer is in the language asked for (lingua; "No idea." is English)
        **{f"flores.{d}.offtarget": 0.0 for d in ("en-cs", "cs-en", "en-ru", "ru-en")},
        **{f"flores.{d}.offtarget": 0.0 for d in ("xx-en", "en-xx")},
        **{f"{b}.{x}.offtarget": 0.0 for b in ("xlsum", "mkqa") for x in ("ru", "en", "xx")},
        **{f"offtarget.{x}": 0.0 for x in ("cs", "ru", "en", "xx")},
    }
    sizes = preds.groupby(["benchmark", "subset"]).size().to_dict()
    assert sizes == {
        ("belebele", "cs"): 1,
        ("belebele", "en"): 2,
        ("belebele", "ru"): 1,
        **{("flores", d): 3 for d in ("en-cs", "cs-en", "en-ru", "ru-en")},
        ("mkqa", "en"): 2,
        ("mkqa", "ru"): 2,
        ("xlsum", "en"): 2,
        ("xlsum", "ru"): 1,
    }
    mkqa = preds[(preds.benchmark == "mkqa") & (preds.subset == "en")]
    assert mkqa.hypothesis.tolist() == ["Ana Stone", "in 1990"]
    assert mkqa.reference.tolist() == ["Ana Stone | A. Stone", "1990"]
    flores = preds[preds.subset == "en-cs"]
    assert (
        flores.prompt.iloc[0] == "Translate the following sentence from English to Czech:\n"
        "The cat sleeps."
    )
    assert flores.score.map(math.isnan).all()  # BLEU is a corpus score


class EnglishLM(ScriptedLM):
    """Answers everything in English; an MKQA question whose answer is 1990 with the number."""

    def generate_until(self, requests, disable_tqdm=False):
        return ["1990" if r.doc["target"] == "1990" else "I do not know that." for r in requests]


def test_offtarget_rates_of_answers_in_english(tmp_path):
    cfg = MultilingualConfig(
        benchmarks=["flores", "xlsum", "mkqa"],
        mirror=str(make_mirror(tmp_path)),
        apply_chat_template=False,
        tokenize="13a",
    )
    scores, _ = evaluate_multilingual(EnglishLM(), ["cs", "ru"], cfg, seed=0)
    assert {k: v for k, v in scores.items() if "offtarget" in k} == {
        "flores.en-cs.offtarget": 100.0,
        "flores.cs-en.offtarget": 0.0,
        "flores.en-ru.offtarget": 100.0,
        "flores.ru-en.offtarget": 0.0,
        "xlsum.ru.offtarget": 100.0,
        "xlsum.en.offtarget": 0.0,
        "mkqa.ru.offtarget": 50.0,  # "1990" cannot be told: not off target
        "mkqa.en.offtarget": 0.0,
        "offtarget.cs": 100.0,
        "offtarget.ru": 83.33,  # 5 of 6: FLORES 3, XL-SUM 1, MKQA 1 (and "1990")
        "offtarget.en": 0.0,
        "flores.xx-en.offtarget": 0.0,
        "flores.en-xx.offtarget": 100.0,
        "xlsum.xx.offtarget": 100.0,
        "mkqa.xx.offtarget": 50.0,
        "offtarget.xx": 91.66,  # (100 + 83.33) / 2, rounded
    }
    assert not any(k.startswith("general.") for k in scores)


def test_flores_comet_in_one_call_of_the_comet_environment(tmp_path, tiny_comet):
    cfg = MultilingualConfig(
        benchmarks=["flores"],
        mirror=str(make_mirror(tmp_path)),
        apply_chat_template=False,
        tokenize="13a",
        comet=True,
    )
    comet = CometConfig(model=str(tiny_comet / "da"), python=str(COMET_PYTHON))
    scores, preds = evaluate_multilingual(ScriptedLM(), ["cs", "ru"], cfg, seed=0, comet=comet)
    directions = ("en-cs", "cs-en", "en-ru", "ru-en")
    for d in directions:
        rows = preds[preds.subset == d]
        assert scores[f"flores.{d}.comet"] == round(100 * rows.score.mean(), 2)
    assert not preds.score.map(math.isnan).any()
    assert scores["flores.xx-en.comet"] == round(
        (scores["flores.cs-en.comet"] + scores["flores.ru-en.comet"]) / 2, 2
    )
    assert {"flores.en-xx.comet", "flores.en-xx.bleu"} <= set(scores)


def test_limit_cuts_every_language(tmp_path):
    cfg = MultilingualConfig(
        mirror=str(make_mirror(tmp_path)), apply_chat_template=False, tokenize="13a"
    )
    for name in ("belebele", "flores", "xlsum", "mkqa"):
        getattr(cfg, name).limit = 1
    _, preds = evaluate_multilingual(ScriptedLM(), ["ru"], cfg, seed=0)
    assert preds.groupby(["benchmark", "subset"]).size().eq(1).all()


# --- the stage, on a tiny chat model ------------------------------------------------------


@pytest.fixture
def workdir(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text()) | {"methods": ["tiny"]}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))  # NAME tiny is listed
    return tmp_path


GEN = dict(max_new_tokens=8, do_sample=False, temperature=1.0, top_p=1.0, batch_tokens=4096)


@pytest.mark.slow
def test_stage_paper_setup_on_a_tiny_model(workdir, model_dir, tmp_path):
    mirror = make_mirror(tmp_path / "mirror")
    set_param(workdir, "base.languages", ["cs", "ru"])
    bench = dict(limit=2, max_gen_toks=6)
    set_param(
        workdir,
        "multilingual",
        dict(
            mirror=str(mirror),
            tokenize="13a",
            batch_size=4,
            generation=GEN,
            belebele=dict(id="facebook/belebele", limit=2),
            flores=dict(id="openlanguagedata/flores_plus", split="devtest", **bench),
            xlsum=dict(id="csebuetnlp/xlsum", parquet_export=True, **bench),
            mkqa=dict(id="apple/mkqa", split="train", parquet_export=True, **bench),
        ),
    )
    result = run_stage(workdir, "stages.multilingual", "tiny", "--model", str(model_dir))
    assert result.returncode == 0, result.stderr
    scores = json.loads((workdir / "metrics/eval/tiny/multilingual.json").read_text())
    expected = (
        [f"belebele.{x}" for x in ("cs", "ru", "en", "xx")]
        + [f"flores.{d}.bleu" for d in ("en-cs", "cs-en", "en-ru", "ru-en", "xx-en", "en-xx")]
        + [f"xlsum.{x}.{m}" for x in ("ru", "en", "xx") for m in ("rouge1", "rougeL")]
        + [f"mkqa.{x}.f1" for x in ("ru", "en", "xx")]
        + [f"flores.{d}.offtarget" for d in ("en-cs", "cs-en", "en-ru", "ru-en", "xx-en", "en-xx")]
        + [f"{b}.{x}.offtarget" for b in ("xlsum", "mkqa") for x in ("ru", "en", "xx")]
        + [f"offtarget.{x}" for x in ("cs", "ru", "en", "xx")]
    )
    assert sorted(scores) == sorted(expected)
    assert all(0.0 <= v <= 100.0 for v in scores.values())
    preds = read_table(
        workdir / "data/multilingual/tiny/predictions.parquet", MULTILINGUAL_PREDICTION
    )
    assert set(preds.benchmark) == {"belebele", "flores", "xlsum", "mkqa"}
    assert preds.prompt.str.startswith("<|im_start|>user\n").all()  # the model's chat template
    assert "multilingual: xlsum has no data for ['cs']: skipped" in result.stderr


@pytest.mark.slow
def test_stage_toy_world_on_a_tiny_model(workdir, model_dir, world, tmp_path):
    data = tmp_path / "fetch"
    write_table(pd.DataFrame(world["general"]), data / "general.parquet", GENERAL)
    set_param(workdir, "multilingual", dict(generation=GEN))
    result = run_stage(
        workdir, "stages.multilingual", "tiny", "--model", str(model_dir), "--data", str(data)
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads((workdir / "metrics/eval/tiny/multilingual.json").read_text())
    langs = ("en", "qa", "qb", "xx")
    assert sorted(scores) == sorted(
        [f"general.{t}.{x}" for t in ("instruct", "math", "safety") for x in langs]
        + [f"offtarget.{x}" for x in langs]
    )
    assert all(0.0 <= v <= 100.0 for v in scores.values())
    preds = read_table(
        workdir / "data/multilingual/tiny/predictions.parquet", MULTILINGUAL_PREDICTION
    )
    assert len(preds) == 3 * len(world["general"])
    assert (
        scores["general.math.qa"]
        == 100 * preds[(preds.benchmark == "general.math") & (preds.subset == "qa")].score.mean()
    )


def test_stage_rejects_toy_and_real_languages_together(workdir):
    set_param(workdir, "base.languages", ["qa", "de"])
    set_param(workdir, "multilingual", {})
    result = run_stage(workdir, "stages.multilingual", "tiny")
    assert_one_line_error(
        result, "base.languages: toy languages ['qa'] mixed with real ones ['de']"
    )
