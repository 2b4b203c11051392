import pytest

from radis.core.io import RadisError
from radis.evaluate.metrics import bleu_tokenizer, forgetting_rate, preservation, translation_scores


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
