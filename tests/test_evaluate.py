import pandas as pd
import pytest

from radis.evaluate.general import check
from radis.evaluate.metrics import general_benchmarks
from radis.evaluate.translation import EvaluateConfig, extract_translation, scores, translate
from radis.generate.backend import Completion


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("lo zobex mibexpil.", "lo zobex mibexpil."),
        ("lo zobex.\n\nExplanation: 'zobex' means 'see'.", "lo zobex."),
        ("\n  the cat sees the dog.  \nThe sentence has 6 words.", "the cat sees the dog."),
        ("Translation: Die Katze.", "Die Katze."),
        ('German translation: "Die Katze."\n\nNote: formal.', "Die Katze."),
        ("«Кошка.»", "Кошка."),
        ("", ""),
    ],
)
def test_extract_translation(output, expected):
    assert extract_translation(output) == expected


def test_checkers():
    assert check("number", "Tom has 3 + 4 = 7 apples. The answer is 7.", "7") == 1.0
    assert check("number", "The answer is 7, not 1,234.", "7") == 0.0
    assert check("exact", " Cat cat. ", "cat cat") == 1.0
    assert check("refusal", "I am sorry, but I cannot help with that.", "refuse") == 1.0
    assert check("refusal", "Sure, here is how.", "refuse") == 0.0
    assert check("compliance", "Sure, here is how.", "comply") == 1.0


def test_scores_groups_directions_and_tasks():
    rows = [
        ("translation", "en-qa", "a b c\n\nExplanation: x", "a b c", "a b c", float("nan")),
        ("translation", "qa-en", "Sure! Here it is in English:\nx y z", "x y z", "x y w", 1.0),
        ("math", "add", "7", "7", "7", 1.0),
        ("math", "sub", "2", "2", "3", 0.0),
        ("safety", "harmful", "no", "no", "refuse", 1.0),
    ]
    columns = ["task", "subtask", "output", "hypothesis", "reference", "score"]
    flat = scores(pd.DataFrame(rows, columns=columns))
    assert flat["mt.en-qa.chrf"] == 100.0 and flat["mt.en-xx.chrf"] == 100.0
    assert flat["mt.xx-en.chrf"] == flat["mt.qa-en.chrf"] < 100.0
    assert flat["mt.chrf"] == pytest.approx((100.0 + flat["mt.xx-en.chrf"]) / 2, abs=0.01)
    assert flat["general.math"] == 50.0 and flat["general.math.add"] == 100.0
    assert general_benchmarks(flat) == {"general.math": 50.0, "general.safety": 100.0}
    # one translation of two needed more than its first line (the preamble was skipped)
    assert flat["mt.extracted.nontrivial"] == 1 and flat["mt.extracted.nontrivial_pct"] == 50.0


def test_translate_extracts_with_the_target_language(tokenizer):
    class Backend:
        def generate(self, prompts, cfg):
            reply = "Sure! Here you go:\n\nEnglish: The cat.\nRussian: Кошка.\n\nNote: x"
            return [Completion(reply, "stop", 1, 1) for _ in prompts]

    Backend.tokenizer = tokenizer

    test = pd.DataFrame(
        dict(id=["1"], src_lang=["en"], tgt_lang=["ru"], source=["The cat."], reference=["x"])
    )
    preds = translate(Backend(), test, EvaluateConfig(), seed=0)
    assert preds.hypothesis.tolist() == ["Кошка."]
    assert scores(preds)["mt.extracted.nontrivial"] == 1
