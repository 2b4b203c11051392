"""Formality steering: the paper's prompts, CoCoA-MT's phrase-level scorer, COMET per condition."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import COMET_PYTHON
from typer.testing import CliRunner

import radis.evaluate.formality
from radis.core.io import RadisError, read_table, write_table
from radis.core.schemas import COCOA, FORMALITY_PREDICTION
from radis.core.templates import generation_prompt
from radis.evaluate.comet import CometConfig, CometScores
from radis.evaluate.formality import (
    TEMPLATES,
    FormalityConfig,
    add_comet,
    formality_prompt,
    formality_scores,
    matched_accuracy,
    phrase_label,
    translate_formality,
)
from radis.generate.backend import Completion
from stages import formality

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
COCOA_RAW = SHARED / "data/raw/cocoa-mt/en-de"

ROWS = pd.DataFrame(
    {
        "id": ["t-0", "t-1"],
        "domain": ["telephony", "telephony"],
        "src_lang": ["en", "en"],
        "tgt_lang": ["de", "de"],
        "source": ["Did you see your family?", "Thanks for your help."],
        "formal": ["Haben Sie Ihre Familie gesehen?", "Danke für Ihre Hilfe."],
        "informal": ["Hast du deine Familie gesehen?", "Danke für deine Hilfe."],
        "formal_annotated": [
            "[F]Haben Sie[/F] [F]Ihre[/F] Familie gesehen?",
            "Danke für [F]Ihre[/F] Hilfe.",
        ],
        "informal_annotated": [
            "[F]Hast du[/F] [F]deine[/F] Familie gesehen?",
            "Danke für [F]deine[/F] Hilfe.",
        ],
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


# CoCoA-MT's scorer: annotated phrases of each reference found token by token in the output.
@pytest.mark.parametrize(
    ("output", "label", "formal", "informal"),
    [
        ("Haben Sie Ihre Familie gesehen?", "formal", 2, 0),  # the formal reference
        ("Hast du deine Familie gesehen?", "informal", 0, 2),  # the informal reference
        ("Haben Sie deine Familie gesehen?", "other", 1, 1),  # both registers: not counted
        ("Sie haben Ihre Familie gesehen?", "formal", 1, 0),  # "Haben" is case-sensitive
        ("Ihre Familie, haben Sie sie gesehen?", "formal", 1, 0),  # "Sie" alone is no phrase
        ("Haben Sie Ihre?", "formal", 1, 0),  # "Ihre?" is another token than "Ihre"
        ("Sie Haben Familie gesehen?", "formal", 1, 0),  # a phrase's tokens in any order
        ("Hast\ndu deine Familie gesehen?", "informal", 0, 2),  # a line break is a space
        ("Habt ihr eure Familie gesehen?", "neutral", 0, 0),
        ("", "neutral", 0, 0),
    ],
)
def test_phrase_level_label_on_hand_made_cases(output, label, formal, informal):
    row = ROWS.iloc[0]
    assert phrase_label(output, row.formal_annotated, row.informal_annotated) == (
        label,
        formal,
        informal,
    )


def test_a_language_without_spaces_matches_substrings():
    formal, informal = "[F]ですか[/F]", "[F]なの[/F]"
    assert phrase_label("元気ですか", formal, informal, "ja") == ("formal", 1, 0)
    assert phrase_label("元気ですか", formal, informal, "de") == ("neutral", 0, 0)


def test_accuracy_counts_only_outputs_labelled_formal_or_informal():
    labels = pd.Series(["formal", "formal", "informal", "neutral", "other"])
    assert matched_accuracy(labels, "formal") == pytest.approx(200 / 3)
    assert matched_accuracy(labels, "informal") == pytest.approx(100 / 3)
    assert matched_accuracy(pd.Series(["neutral", "other"]), "formal") == 0.0


def test_references_score_full_accuracy_on_real_cocoa_lines():
    """Each CoCoA-MT reference, scored as an output, is never labelled the other register."""
    if not COCOA_RAW.is_dir():
        pytest.skip(f"{COCOA_RAW} is absent: the raw CoCoA-MT sample lives in ../shared")
    stem = COCOA_RAW / "formality-control.test.telephony.en-de"
    lines = {
        s: Path(f"{stem}{s}").read_text().splitlines()
        for s in (".formal", ".informal", ".formal.annotated", ".informal.annotated")
    }
    pairs = list(zip(lines[".formal.annotated"], lines[".informal.annotated"]))
    for condition in ("formal", "informal"):
        labels = pd.Series(
            [phrase_label(h, f, i)[0] for h, (f, i) in zip(lines[f".{condition}"], pairs)]
        )
        assert matched_accuracy(labels, condition) == 100.0
        assert (labels == condition).sum() > 0.85 * len(labels)  # a few match no phrase


def test_steered_model_scores_full_accuracy(tokenizer):
    backend = StandIn(tokenizer, asked)
    preds = translate_formality(backend, ROWS, FormalityConfig(), seed=0)
    assert len(backend.calls) == 1
    expected = [
        generation_prompt(tokenizer, formality_prompt(c, "en", "de", s))
        for c in ("formal", "informal")
        for s in ROWS.source
    ]
    assert backend.calls[0] == expected
    assert preds["formal"].hypothesis.tolist() == ROWS.formal.tolist()
    assert preds["formal"].label.tolist() == ["formal", "formal"]
    assert preds["informal"].reference.tolist() == ROWS.informal.tolist()
    assert preds["informal"].opposite.tolist() == ROWS.formal.tolist()
    assert preds["formal"].source.tolist() == ROWS.source.tolist()
    assert formality_scores(preds, comet=False) == {
        "formality.formal.accuracy": 100.0,
        "formality.formal.chrf": 100.0,
        "formality.formal.matched": 2,
        "formality.formal.n": 2,
        "formality.informal.accuracy": 100.0,
        "formality.informal.chrf": 100.0,
        "formality.informal.matched": 2,
        "formality.informal.n": 2,
        "formality.accuracy": 100.0,
    }


def test_model_deaf_to_the_tone_is_right_half_the_time(tokenizer, tmp_path):
    preds = translate_formality(StandIn(tokenizer, lambda p: "formal"), ROWS, FormalityConfig(), 0)
    flat = formality_scores(preds, comet=False)
    assert flat["formality.formal.accuracy"] == 100.0
    assert flat["formality.informal.accuracy"] == 0.0
    assert flat["formality.accuracy"] == 50.0
    assert flat["formality.informal.chrf"] < flat["formality.formal.chrf"] == 100.0
    for condition, table in preds.items():
        write_table(table, tmp_path / f"{condition}.parquet", FORMALITY_PREDICTION)
        back = read_table(tmp_path / f"{condition}.parquet", FORMALITY_PREDICTION)
        assert (back.condition == condition).all()
    assert not back.correct.any() and (back.label == "formal").all()


def test_comet_scores_each_condition_against_its_own_reference(tokenizer, monkeypatch):
    calls = []

    def fake(sources, translations, cfg, references=None):
        calls.append((list(sources), list(translations), list(references)))
        return CometScores([0.1 * (k + 1) for k in range(len(sources))], 0.0)

    monkeypatch.setattr(radis.evaluate.formality, "comet_scores", fake)
    preds = translate_formality(StandIn(tokenizer, lambda p: "formal"), ROWS, FormalityConfig(), 0)
    scored = add_comet(preds, CometConfig())
    assert len(calls) == 1  # both conditions in one COMET run
    sources, hyps, refs = calls[0]
    assert sources == ROWS.source.tolist() * 2
    assert hyps == ROWS.formal.tolist() * 2  # a deaf model: formal outputs in both conditions
    assert refs == ROWS.formal.tolist() + ROWS.informal.tolist()
    assert scored["formal"].comet.tolist() == pytest.approx([0.1, 0.2])
    assert scored["informal"].comet.tolist() == pytest.approx([0.3, 0.4])
    flat = formality_scores(scored, comet=True)
    assert flat["formality.formal.comet"] == 15.0 and flat["formality.informal.comet"] == 35.0


def run_formality(tmp_path, model_dir, monkeypatch, comet: dict | None = None):
    """The stage in ``tmp_path``; COMET per condition with the ``comet`` params given."""
    monkeypatch.chdir(tmp_path)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["formality"] = {"generation": {"max_new_tokens": 4}, "comet": comet is not None}
    params["comet"] |= comet or {}
    params["methods"] = ["tiny"]  # a NAME must be the backbone or a listed method
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_table(ROWS, tmp_path / "data/fetch/cocoa.parquet", COCOA)
    return CliRunner().invoke(formality.app, ["tiny", "--model", str(model_dir)])


def test_stage_writes_predictions_per_condition_and_metrics(tmp_path, model_dir, monkeypatch):
    done = run_formality(tmp_path, model_dir, monkeypatch)
    assert done.exit_code == 0, done.output
    for condition in ("formal", "informal"):
        table = read_table(
            tmp_path / f"data/formality/tiny/{condition}.parquet", FORMALITY_PREDICTION
        )
        assert table.id.tolist() == ROWS.id.tolist()
        assert table.reference.tolist() == ROWS[condition].tolist()
        assert table.comet.isna().all()
    flat = json.loads((tmp_path / "metrics/eval/tiny/formality.json").read_text())
    assert set(flat) == {
        f"formality.{c}.{m}"
        for c in ("formal", "informal")
        for m in ("accuracy", "chrf", "matched", "n")
    } | {"formality.accuracy"}


def test_stage_scores_comet_per_condition(tmp_path, model_dir, monkeypatch, tiny_comet):
    comet = {"model": str(tiny_comet / "da"), "batch_size": 2, "python": str(COMET_PYTHON)}
    done = run_formality(tmp_path, model_dir, monkeypatch, comet)
    assert done.exit_code == 0, done.output
    flat = json.loads((tmp_path / "metrics/eval/tiny/formality.json").read_text())
    for condition in ("formal", "informal"):
        table = read_table(
            tmp_path / f"data/formality/tiny/{condition}.parquet", FORMALITY_PREDICTION
        )
        assert all(math.isfinite(x) for x in table.comet)
        assert flat[f"formality.{condition}.comet"] == round(100 * table.comet.mean(), 2)
    assert not (tmp_path / "data/formality/tiny/commits.json").exists()  # a local checkpoint
