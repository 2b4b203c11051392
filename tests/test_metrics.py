import ast
from pathlib import Path

import pytest
import sacrebleu

from radis.core.io import RadisError
from radis.evaluate.bleu import bleu_tokenizer
from radis.evaluate.metrics import forgetting_rate, preservation, translation_scores

ROOT = Path(__file__).resolve().parents[1]


def test_forgetting_rate_is_the_mean_relative_drop_with_negative_gains():
    base = {"a": 50.0, "b": 80.0, "only_base": 10.0}
    tuned = {"a": 25.0, "b": 88.0, "only_tuned": 1.0}
    # a: (50-25)/50 = 50 %, b: (80-88)/80 = -10 % (an improvement is not clipped)
    assert forgetting_rate(base, tuned) == pytest.approx(20.0)
    assert preservation(base, tuned) == pytest.approx(80.0)


def test_forgetting_rate_of_identical_scores_is_zero():
    assert forgetting_rate({"a": 3.0}, {"a": 3.0}) == 0.0


def test_forgetting_rate_needs_shared_benchmarks():
    with pytest.raises(RadisError, match="no shared benchmark"):
        forgetting_rate({"a": 1.0}, {"b": 1.0})


def test_forgetting_rate_leaves_out_zero_base_benchmarks():
    assert forgetting_rate({"a": 0.0, "b": 40.0}, {"a": 5.0, "b": 30.0}) == pytest.approx(25.0)
    with pytest.raises(RadisError, match="base score is 0 for every shared benchmark"):
        forgetting_rate({"a": 0.0}, {"a": 1.0})


def test_translation_scores_and_tokenizer_choice():
    perfect = translation_scores(["the cat sat ."], ["the cat sat ."], "en")
    assert perfect == {"bleu": 100.0, "chrf": 100.0}
    worse = translation_scores(["a dog ran ."], ["the cat sat ."], "en")
    assert worse["chrf"] < 50
    assert bleu_tokenizer("zh") == "zh" and bleu_tokenizer("de") == "13a"


HYPS = ["the cat sat on a mat .", "a dog ran home", "猫坐在垫子上。", "Der Hund lief nach Hause."]
REFS = ["the cat sat on the mat .", "the dog ran home", "猫坐在席子上。", "Der Hund rannte heim."]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_translation_scores_are_sacrebleus_corpus_scores(lang):
    """The wrappers keep sacreBLEU's defaults: the scores of its own corpus functions."""
    bleu = sacrebleu.corpus_bleu(HYPS, [REFS], tokenize=bleu_tokenizer(lang)).score
    chrf = sacrebleu.corpus_chrf(HYPS, [REFS]).score
    assert translation_scores(HYPS, REFS, lang) == {"bleu": round(bleu, 2), "chrf": round(chrf, 2)}
    assert 0 < bleu < 100 and 0 < chrf < 100


def test_only_the_bleu_module_imports_sacrebleu():
    importers = set()
    for path in (ROOT / "radis").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.split(".")[0] == "sacrebleu" for n in names):
                importers.add(str(path.relative_to(ROOT)))
    assert importers == {"radis/evaluate/bleu.py"}
