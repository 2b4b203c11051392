import re

import pandas as pd
import pytest
from transformers import AutoTokenizer

from radis.core.io import RadisError
from radis.core.templates import LANGUAGES
from radis.data.rationales import RationaleConfig, rationale_set, rule_rationales
from radis.generate.backend import Completion
from radis.toy import lexicon as lx
from radis.toy.world import (
    EXPLANATION_BREAK,
    WorldConfig,
    build_world,
    make_lexicon,
    new_nouns,
    rare_nouns,
)

SMALL = dict(
    train_pairs=60,
    valid_pairs=5,
    test_pairs=60,
    backbone_pairs=60,
    backbone_items={"math": 5, "instruct": 5, "safety": 5},
    eval_items=5,
)


def words(texts):
    return {w.strip(".").rstrip("s") for t in texts for w in t.split()}


def test_rare_nouns_stay_out_of_fine_tuning_but_reach_the_test():
    world = build_world(WorldConfig(rare_nouns=0.25, **SMALL), seed=0)
    rare = rare_nouns(0.25, 0)
    assert len(rare) == round(0.25 * len(lx.NOUNS))
    rows = pd.DataFrame(world["parallel"])
    english = {s: rows[(rows.split == s) & (rows.src_lang == "en")].source for s in rows.split}
    assert not rare & words(english["train"]) and not rare & words(english["valid"])
    assert rare & words(english["test"])


def test_max_operand_bounds_the_word_problems():
    world = build_world(WorldConfig(max_operand=3, **SMALL), seed=0)
    math = [c for c in world["chat"] if c["prompt"].endswith(("now?", "left?"))]
    numbers = {int(w) for c in math for w in c["prompt"].split() if w.isdigit()}
    assert math and numbers <= {1, 2, 3, 4, 5, 6}  # a - b problems start from a + b


def test_glosses_are_the_taught_explanations_of_every_training_row(tokenizer):
    world = build_world(WorldConfig(**SMALL), seed=0)
    rows = pd.DataFrame(world["parallel"])
    train = rows[rows.split == "train"].reset_index(drop=True)
    glosses = pd.DataFrame(world["glosses"])
    assert sorted(glosses.id) == sorted(train.id)
    assert glosses.rationale.str.startswith(EXPLANATION_BREAK + "Explanation: ").all()
    table = rule_rationales(train, glosses, tokenizer, seed=0)
    assert table.id.tolist() == train.id.tolist()
    first = table.iloc[0]
    assert first.prompt.endswith(first.reference)
    assert first.rationale == glosses.set_index("id").rationale[first.id]
    with pytest.raises(RadisError, match="no gloss for 1 row"):
        rule_rationales(train, glosses.iloc[1:], tokenizer, seed=0)


class FakeBackend:
    """Writes " Why." after every prompt; records that it was cleaned up."""

    def __init__(self, tokenizer):
        self.tokenizer, self.cleaned = tokenizer, False

    def generate(self, prompts, cfg):
        return [Completion(" Why.", "stop", 1, 1) for _ in prompts]

    def clean(self):
        self.cleaned = True


def test_a_rule_written_set_opens_no_model_and_a_model_set_no_glosses(tokenizer):
    world = build_world(WorldConfig(**SMALL), seed=0)
    rows = pd.DataFrame(world["parallel"])
    train = rows[rows.split == "train"].reset_index(drop=True)
    glosses = pd.DataFrame(world["glosses"])

    def never(*args):
        raise AssertionError("opened what the set does not need")

    rules = rationale_set(
        train,
        RationaleConfig(),
        "toy-gloss",
        0,
        open_backend=never,
        open_tokenizer=lambda: tokenizer,
        read_glosses=lambda: glosses,
    )
    assert rules.equals(rule_rationales(train, glosses, tokenizer, seed=0))
    opened, backend = [], FakeBackend(tokenizer)
    made = rationale_set(
        train,
        RationaleConfig(),
        "some/model",
        0,
        open_backend=lambda model: opened.append(model) or backend,
        open_tokenizer=never,
        read_glosses=never,
    )
    assert opened == ["some/model"] and backend.cleaned
    assert made.id.tolist() == train.id.tolist() and (made.rationale == " Why.").all()


def test_saved_backbone_tokenizes_as_the_one_it_was_trained_with(tokenizer, model_dir, world):
    """AutoTokenizer loads a Qwen2 folder as Qwen2Tokenizer, which sets its own pre-tokenizer:
    the trained tokenizer must split text (digits, newlines, specials) exactly the same way."""
    loaded = AutoTokenizer.from_pretrained(model_dir)
    texts = [c["prompt"] + "\n" + c["completion"] for c in world["chat"][:20]]
    texts.append("<|im_start|>user\nTom has 12 keys and finds 3 more.\n\nIt's 10!<|im_end|>\n")
    for text in texts:
        assert loaded(text).input_ids == tokenizer(text).input_ids, text
    assert tokenizer.tokenize(" 12") == ["Ġ", "1", "2"]  # Qwen2 splits digits one by one


def test_a_translation_ends_on_a_token_boundary_before_its_explanation(tokenizer, world):
    """The rationale prompt ends with the reference: the backbone's chats must tokenize the
    translation the same with or without the explanation after it."""
    chats = [c for c in world["chat"] if EXPLANATION_BREAK + "Explanation" in c["completion"]]
    assert chats
    for c in chats:
        ref = c["completion"].split(EXPLANATION_BREAK)[0]
        ids = tokenizer(ref).input_ids
        assert tokenizer(c["completion"]).input_ids[: len(ids)] == ids


def test_explanation_parts_say_what_the_knob_lists_and_are_correct():
    cfg = dict(SMALL, explanation=["reverse", "count"])
    world = build_world(WorldConfig(**cfg), seed=0)
    rows = pd.DataFrame(world["parallel"]).set_index("id")
    for g in world["glosses"][:20]:
        words = rows.source[g["id"]].rstrip(".").split()
        expected = (
            f"Explanation: The first words in reverse order: {' '.join(reversed(words[:3]))}."
            f" It has {len(words)} words."
        )
        assert g["rationale"] == EXPLANATION_BREAK + expected
    default = build_world(WorldConfig(**SMALL), seed=0)["glosses"][0]["rationale"]
    assert "The last word is" in default and "reverse order" not in default
    with pytest.raises(ValueError, match="explanation"):
        WorldConfig(**dict(SMALL, explanation=["gloss", "riddle"]))


def test_align_glosses_the_translation_in_its_own_word_order():
    world = build_world(WorldConfig(**dict(SMALL, explanation=["align"])), seed=0)
    rows = pd.DataFrame(world["parallel"]).set_index("id")
    for g in world["glosses"]:
        pairs = re.findall(r"'([^']+)' means '([^']+)'", g["rationale"])
        assert len(pairs) == 3 or "near" not in rows.source[g["id"]]
        ref, src = rows.reference[g["id"]].split(), rows.source[g["id"]]
        # each glossed word is a word of the reference (a plural keeps its base inside it), in
        # the reference's order, and its meaning is a word of the source
        at = [next(i for i, w in enumerate(ref) if a in w) for a, _ in pairs]
        assert at == sorted(at), (g["rationale"], ref)
        assert all(b in src for _, b in pairs)


def test_dictionary_chats_ask_each_language_its_words_both_ways():
    lex = {lang: make_lexicon(lang, 0) for lang in ("qa", "qb")}
    chats = [c for c in build_world(WorldConfig(**SMALL, dictionary_chats=40), 0)["chat"]]
    lookups = [c for c in chats if c["id"].startswith("dict-")]
    assert len(lookups) == 80
    assert not [c for c in build_world(WorldConfig(**SMALL), 0)["chat"] if "dict-" in c["id"]]
    for c in lookups:
        lang = c["id"].split("-")[1]
        a, b = re.fullmatch(r"'([^']+)' means '([^']+)'\.", c["completion"]).groups()
        assert lex[lang].get(a) == b or lex[lang].get(b) == a
        assert f"'{a}'" in c["prompt"] and LANGUAGES[lang] in c["prompt"]
    assert {c["prompt"].split()[0] for c in lookups} == {"What", "How"}
    with pytest.raises(ValueError, match="dictionary_chats"):
        WorldConfig(**SMALL, dictionary_chats=-1)


def test_new_nouns_are_taught_by_fine_tuning_not_by_the_backbones_chats():
    cfg = WorldConfig(**SMALL, rare_nouns=0.25, new_nouns=0.25, dictionary_chats=200)
    world = build_world(cfg, seed=0)
    new, rare = new_nouns(0.25, rare_nouns(0.25, 0), 0), rare_nouns(0.25, 0)
    assert len(new) == round(0.25 * len(lx.NOUNS)) and not new & rare
    rows = pd.DataFrame(world["parallel"])
    english = {s: rows[(rows.split == s) & (rows.src_lang == "en")].source for s in rows.split}
    assert new & words(english["train"]) and new & words(english["test"])
    chats = [c for c in world["chat"] if c["id"].startswith(("backbone-", "dict-"))]
    said = {
        w.strip(".'?").rstrip("s")
        for c in chats
        for w in (c["prompt"] + " " + c["completion"]).split()
    }
    assert chats and not new & said
    with pytest.raises(ValueError, match="must not exceed 1"):
        WorldConfig(**SMALL, rare_nouns=0.6, new_nouns=0.5)
