import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from radis.formality import (
    TEMPLATES,
    FormalityConfig,
    formality_correct,
    formality_prompt,
    formality_scores,
    translate_formality,
)
from radis.generate import Completion
from radis.io import RadisError, read_table, write_table
from radis.schemas import COCOA, FORMALITY_PREDICTION
from radis.templates import generation_prompt
from stages import formality

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

ROWS = pd.DataFrame(
    {
        "id": ["t-0", "t-1"],
        "domain": ["telephony", "telephony"],
        "src_lang": ["en", "en"],
        "tgt_lang": ["de", "de"],
        "source": ["Did you see your family?", "Thanks for your help."],
        "formal": ["Haben Sie Ihre Familie gesehen?", "Danke für Ihre Hilfe."],
        "informal": ["Hast du deine Familie gesehen?", "Danke für deine Hilfe."],
    }
)


class StandIn:
    """Answers with the reference of the condition that ``pick`` names for each prompt."""

    def __init__(self, tokenizer, pick):
        self.tokenizer, self.pick, self.calls = tokenizer, pick, []

    def generate(self, prompts, cfg):
        self.calls.append(list(prompts))
        out = []
        for p in prompts:
            row = next(r for r in ROWS.itertuples() if r.source in p)
            ref = getattr(row, self.pick(p))
            out.append(Completion(f'German translation: "{ref}"\nNote: a rationale.', "stop", 1, 1))
        return out


def asked(prompt: str) -> str:
    return "informal" if "in a informal tone" in prompt else "formal"


def test_prompts_are_the_papers_templates():
    assert formality_prompt("formal", "en", "de", "Hi there.") == (
        "Please translate the following sentence from English to German in a formal tone: Hi there."
    )
    assert formality_prompt("informal", "en", "de", "Hi.").endswith("in a informal tone: Hi.")
    with pytest.raises(RadisError, match="unknown condition 'polite'"):
        formality_prompt("polite", "en", "de", "Hi.")


def test_templates_match_the_method_spec():
    spec = SHARED / "METHODS.md"
    if not spec.is_file():
        pytest.skip("../shared/METHODS.md is absent (a fresh clone has no shared folder)")
    text = spec.read_text()
    for template in TEMPLATES.values():
        assert template.format(lang1="English", lang2="German", sentence="{sentence}") in text


@pytest.mark.parametrize(
    ("output", "formal_ok", "informal_ok"),
    [
        ("Haben Sie Ihre Familie gesehen?", True, False),  # the formal reference
        ("Hast du deine Familie gesehen?", False, True),  # the informal reference
        ("Haben Sie deine Familie gesehen?", True, False),  # closer to formal by chrF
        ("", False, False),  # a tie counts as wrong in both conditions
    ],
)
def test_accuracy_rule_on_hand_made_cases(output, formal_ok, informal_ok):
    formal, informal = ROWS.formal[0], ROWS.informal[0]
    assert formality_correct(output, formal, informal) is formal_ok
    assert formality_correct(output, informal, formal) is informal_ok


def test_identical_references_are_never_correct():
    assert not formality_correct("Danke.", "Danke.", "Danke.")


def test_steered_model_scores_full_accuracy(tokenizer):
    backend = StandIn(tokenizer, asked)
    preds = translate_formality(backend, ROWS, FormalityConfig())
    assert len(backend.calls) == 1
    expected = [
        generation_prompt(tokenizer, formality_prompt(c, "en", "de", s))
        for c in ("formal", "informal")
        for s in ROWS.source
    ]
    assert backend.calls[0] == expected
    assert preds["formal"].hypothesis.tolist() == ROWS.formal.tolist()
    assert preds["informal"].reference.tolist() == ROWS.informal.tolist()
    assert preds["informal"].opposite.tolist() == ROWS.formal.tolist()
    assert preds["formal"].source.tolist() == ROWS.source.tolist()
    assert formality_scores(preds) == {
        "formality.formal.chrf": 100.0,
        "formality.formal.accuracy": 100.0,
        "formality.informal.chrf": 100.0,
        "formality.informal.accuracy": 100.0,
        "formality.accuracy": 100.0,
    }


def test_model_deaf_to_the_tone_is_right_half_the_time(tokenizer, tmp_path):
    preds = translate_formality(StandIn(tokenizer, lambda p: "formal"), ROWS, FormalityConfig())
    flat = formality_scores(preds)
    assert flat["formality.formal.accuracy"] == 100.0
    assert flat["formality.informal.accuracy"] == 0.0
    assert flat["formality.accuracy"] == 50.0
    assert flat["formality.informal.chrf"] < flat["formality.formal.chrf"] == 100.0
    for condition, table in preds.items():
        write_table(table, tmp_path / f"{condition}.parquet", FORMALITY_PREDICTION)
        back = read_table(tmp_path / f"{condition}.parquet", FORMALITY_PREDICTION)
        assert (back.condition == condition).all()
    assert not back.correct.any()


def test_stage_writes_predictions_per_condition_and_metrics(tmp_path, model_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["formality"] = {"generation": {"max_new_tokens": 4}}
    params["methods"] = ["tiny"]  # a NAME must be the backbone or a listed method
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_table(ROWS, tmp_path / "data/fetch/cocoa.parquet", COCOA)
    done = CliRunner().invoke(formality.app, ["tiny", "--model", str(model_dir)])
    assert done.exit_code == 0, done.output
    for condition in ("formal", "informal"):
        table = read_table(
            tmp_path / f"data/formality/tiny/{condition}.parquet", FORMALITY_PREDICTION
        )
        assert table.id.tolist() == ROWS.id.tolist()
        assert table.reference.tolist() == ROWS[condition].tolist()
    flat = json.loads((tmp_path / "metrics/eval/tiny/formality.json").read_text())
    assert set(flat) == {
        "formality.formal.chrf",
        "formality.formal.accuracy",
        "formality.informal.chrf",
        "formality.informal.accuracy",
        "formality.accuracy",
    }
