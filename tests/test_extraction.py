"""radis.generate.extraction: the translation in a chat reply: labelled replies, each rule, the toy
world."""

import re
import sys
from pathlib import Path

import pytest

from radis.generate.extraction import extract, extract_translation, first_line
from radis.toy.world import WorldConfig, build_world

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import extraction as bench  # noqa: E402

DATA = Path(__file__).parent / "data" / "extraction.jsonl"
MODELS = {"llama-2-7b-chat", "mistral-7b-instruct-v0.2", "qwen2.5-7b-instruct"}


@pytest.fixture(scope="module")
def items():
    return bench.load(DATA)


def legacy(output: str) -> str:
    """The rule before radis.generate.extraction: first line, a "Translation:" label and quotes
    dropped."""
    line = next((ln for ln in output.splitlines() if ln.strip()), "")
    line = re.sub(r"^\s*(?:\w+\s+)?translation\s*:\s*", "", line, flags=re.I).strip()
    if len(line) >= 2 and line[0] in "\"'“”„«»「」" and line[-1] in "\"'“”„«»「」":
        line = line[1:-1].strip()
    return line


def test_labelled_set_covers_the_backbones_languages_and_bare_replies(items):
    assert len(items) >= 60 and {it["model"] for it in items} == MODELS
    assert {"zh", "ru"} <= {it["tgt_lang"] for it in items}
    assert {"zh", "ru"} <= {it["src_lang"] for it in items}
    for model in MODELS:  # each style has replies that are the translation alone, and others
        mine = [it for it in items if it["model"] == model]
        assert any(it["expected"] == first_line(it["output"]) for it in mine)
        assert any(it["expected"] != first_line(it["output"]) for it in mine)


def test_accuracy_on_the_labelled_set(items):
    right = [extract_translation(it["output"], it["tgt_lang"]) == it["expected"] for it in items]
    assert sum(right) / len(right) >= 0.98
    for model in MODELS:
        mine = [r for r, it in zip(right, items) if it["model"] == model]
        assert sum(mine) / len(mine) >= 0.95, model


def test_trivial_means_the_first_line_as_it_stands(items):
    # radis.evaluate.translation counts non-trivial extractions from the stored output and
    # hypothesis alone.
    for it in items:
        found = extract(it["output"], it["tgt_lang"])
        assert found.trivial == (found.text == first_line(it["output"])), it["id"]


def test_the_old_rule_scores_the_preamble(items):
    llama = [it for it in items if it["model"] == "llama-2-7b-chat"]
    old = sum(legacy(it["output"]) == it["expected"] for it in llama)
    assert old / len(llama) < 0.5  # the preamble line itself was taken as the translation


@pytest.mark.parametrize(
    ("output", "tgt", "text", "rules"),
    [
        ("Die Katze schläft.\n\nExplanation: ...", "de", "Die Katze schläft.", ()),
        ("  Die Katze schläft.  ", "de", "Die Katze schläft.", ()),
        ("", "de", "", ()),
        (
            " Sure! Here is the translation:\n\nDie Katze.\n\nNote: x",
            "de",
            "Die Katze.",
            ("preamble",),
        ),
        (
            "Sure, I'd be happy to help!\n\nHere's the translation into German:\nDie Katze.",
            "de",
            "Die Katze.",
            ("preamble",),
        ),
        ("当然！以下是翻译：\n\n猫在睡觉。", "zh", "猫在睡觉。", ("preamble",)),
        ("**Übersetzung:**\n\nDie Katze.", "de", "Die Katze.", ("preamble",)),
        ("Sure! Here is the translation of the sentence into Russian:", "ru", "", ("preamble",)),
        (
            "Translate the following sentence from English to German:\nThe cat.",
            "de",
            "Translate the following sentence from English to German:",
            (),
        ),
        ("English: The cat.\nRussian: Кошка.", "ru", "Кошка.", ("pair", "label")),
        ("Chinese: 猫。\nEnglish: The cat.", "zh", "猫。", ("label",)),
        (
            "Original sentence: The cat.\nTranslation: Die Katze.",
            None,
            "Die Katze.",
            ("pair", "label"),
        ),
        (
            'Sure! The sentence "Кошка спит" translates to "The cat sleeps" in English.',
            "en",
            "The cat sleeps",
            ("inline",),
        ),
        (
            'Sure! "Hast du Zeit?" is the informal way to say "Do you have time?" in German.',
            "de",
            "Hast du Zeit?",
            ("inline",),
        ),
        ('In Russian, the sentence would be: "Кошка спит."', "ru", "Кошка спит.", ("inline",)),
        ("German translation: Die Katze.", "de", "Die Katze.", ("label",)),
        ("中文翻译：猫在睡觉。", "zh", "猫在睡觉。", ("label",)),
        ("In a formal tone: Können Sie kommen?", "de", "Können Sie kommen?", ("label",)),
        ("The English translation is: The cat sleeps.", "en", "The cat sleeps.", ("label",)),
        ('The minister said: "No."', "en", 'The minister said: "No."', ()),
        ("**Die Katze schläft.**", "de", "Die Katze schläft.", ("markdown",)),
        ("猫在睡觉。 (Māo zài shuìjiào.)", "zh", "猫在睡觉。", ("gloss",)),
        ("Кошка спит. (Koshka spit.)", "ru", "Кошка спит.", ("gloss",)),
        ("Er hat Pech. (Literally: He has pitch.)", "de", "Er hat Pech.", ("gloss",)),
        ("Willst du kommen? (informal)", "de", "Willst du kommen?", ("gloss",)),
        (
            "Das Museum bleibt zu. (The museum stays closed.)",
            "de",
            "Das Museum bleibt zu.",
            ("gloss",),
        ),
        (
            "He visited the WHO (World Health Organization).",
            "en",
            "He visited the WHO (World Health Organization).",
            (),
        ),
        (
            "The talks ended. (It was the third round.)",
            "en",
            "The talks ended. (It was the third round.)",
            (),
        ),
        ("«Кошка.»", "ru", "Кошка.", ("quotes",)),
        ('"Die Katze."', "de", "Die Katze.", ("quotes",)),
        ('"We won," he said, "again."', "en", '"We won," he said, "again."', ()),
        ("„Wir gewinnen“, sagte er.", "de", "„Wir gewinnen“, sagte er.", ()),
        (
            'Russian: "Кошка спит." (Koshka spit.)',
            "ru",
            "Кошка спит.",
            ("label", "gloss", "quotes"),
        ),
        ("Кошка (Koshka)", "ru", "Кошка (Koshka)", ()),
    ],
)
def test_rules(output, tgt, text, rules):
    found = extract(output, tgt)
    assert (found.text, found.rules) == (text, rules)


def toy_outputs() -> list[str]:
    """What the toy backbone is taught to write, and the ways a toy model gets it wrong."""
    world = build_world(
        WorldConfig(
            train_pairs=40,
            valid_pairs=2,
            test_pairs=40,
            backbone_pairs=40,
            backbone_items={"math": 20, "instruct": 20, "safety": 20},
            eval_items=10,
        ),
        seed=0,
    )
    chats = [c["completion"] for c in world["chat"]]
    rows = {r["id"]: r for r in world["parallel"]}
    glossed = [rows[g["id"]]["reference"] + g["rationale"] for g in world["glosses"]]
    explanations = [g["rationale"] for g in world["glosses"]]  # the explanation alone
    truncated = [c[: len(c) // 2] for c in chats]
    echoed = [c["prompt"] for c in world["chat"]]  # the instruction echoed back
    general = [it["prompt"] for it in world["general"]]
    return chats + glossed + explanations + truncated + echoed + general + ["", " \n "]


def test_toy_outputs_extract_as_before():
    outputs = toy_outputs()
    assert len(outputs) > 300
    for output in outputs:
        found = extract(output)
        assert found.text == legacy(output), output
        assert found.trivial, output


def test_bench_report_counts_misses_and_nontrivial_rules():
    items = [
        dict(
            id="a",
            model="m",
            batch=1,
            tgt_lang="de",
            output="Sure! Here it is in German:\nJa.",
            expected="Ja.",
        ),
        dict(id="b", model="m", batch=1, tgt_lang="de", output="Nein.", expected="Doch."),
    ]
    lines = bench.report(items)
    assert lines[0] == "overall: 1/2 (50.0 %)"
    assert "non-trivial m: 1/2 (preamble 1)" in lines
    assert lines[-1] == "miss b: got 'Nein.', expected 'Doch.'"
