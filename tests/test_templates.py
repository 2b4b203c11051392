from collections import Counter

import pytest

from radis.io import RadisError
from radis.templates import (
    TEMPLATES,
    continuation_prompt,
    generation_prompt,
    instruction,
    pick_template,
)


def test_continuation_prompt_ends_exactly_with_the_reference(tokenizer):
    reference = "lo zobex mibexpil."
    user = instruction(2, "en", "qb", "the cats see the dog.")
    prompt = continuation_prompt(tokenizer, user, reference)
    assert prompt.endswith("<|im_start|>assistant\n" + reference)
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert ids[-1] != tokenizer.eos_token_id
    assert tokenizer.decode(ids).endswith(reference)


def test_generation_prompt_opens_the_assistant_turn(tokenizer):
    assert (
        generation_prompt(tokenizer, "hi")
        == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_instruction_renders_templates_verbatim():
    assert instruction(5, "de", "en", "Hallo.") == "Hallo.\nTranslate this sentence to English."
    assert instruction(1, "en", "cs", "Hi.") == (
        "Could you please translate this sentence from English to Czech?\nHi."
    )


def test_unknown_language_is_a_clear_error():
    with pytest.raises(RadisError, match="unknown language 'xx'"):
        instruction(1, "xx", "en", "a")


def test_pick_template_is_seeded_per_id_and_covers_all_five():
    ids = [f"s{i}" for i in range(500)]
    picks = [pick_template(0, i) for i in ids]
    assert picks == [pick_template(0, i) for i in ids]
    assert picks != [pick_template(1, i) for i in ids]
    counts = Counter(picks)
    assert set(counts) == set(TEMPLATES)
    assert all(70 <= c <= 130 for c in counts.values())  # 100 expected each
