import pandas as pd
import pytest

from radis.evaluate import extract_translation, scores
from radis.general import check
from radis.metrics import general_benchmarks


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
        ("translation", "en-qa", "a b c", "a b c", float("nan")),
        ("translation", "qa-en", "x y z", "x y w", float("nan")),
        ("math", "add", "7", "7", 1.0),
        ("math", "sub", "2", "3", 0.0),
        ("safety", "harmful", "no", "refuse", 1.0),
    ]
    preds = pd.DataFrame(rows, columns=["task", "subtask", "hypothesis", "reference", "score"])
    flat = scores(preds)
    assert flat["mt.en-qa.chrf"] == 100.0 and flat["mt.en-xx.chrf"] == 100.0
    assert flat["mt.xx-en.chrf"] == flat["mt.qa-en.chrf"] < 100.0
    assert flat["mt.chrf"] == pytest.approx((100.0 + flat["mt.xx-en.chrf"]) / 2, abs=0.01)
    assert flat["general.math"] == 50.0 and flat["general.math.add"] == 100.0
    assert general_benchmarks(flat) == {"general.math": 50.0, "general.safety": 100.0}
