import json
from collections import Counter

import pytest
from transformers import AutoTokenizer

from radis.core.io import RadisError
from radis.core.templates import (
    ALPACA_SYSTEM,
    TEMPLATES,
    continuation_prompt,
    generation_prompt,
    instruction,
    pick_template,
    render,
)
from radis.data.backbone import apply_prompt_format
from radis.train.loop import IGNORE, tokenize_chat


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


def base_model_folder(tokenizer, folder):
    """``tokenizer`` saved as a base model's: no chat template anywhere in the folder."""
    tokenizer.save_pretrained(folder)
    for name in ("chat_template.jinja", "chat_template.json"):
        (folder / name).unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_a_base_model_is_refused_under_chat_with_one_line(tokenizer, tmp_path):
    folder = base_model_folder(tokenizer, tmp_path)
    with pytest.raises(RadisError, match="base.prompt_format: chat, but the backbone has no chat"):
        apply_prompt_format(folder, "chat")


def test_alpaca_format_is_written_and_every_chat_function_uses_it(tokenizer, tmp_path):
    folder = base_model_folder(tokenizer, tmp_path)
    apply_prompt_format(folder, "alpaca")
    tok = AutoTokenizer.from_pretrained(folder)
    bos = tok.bos_token or ""
    head = bos + ALPACA_SYSTEM + "\n\n### Instruction:\nhi\n\n### Response:\n"
    assert generation_prompt(tok, "hi") == head
    assert continuation_prompt(tok, "hi", "hello there") == head + "hello there"
    example = tokenize_chat(tok, "hi", "hello there", 256)
    learned = [t for t, label in zip(example.input_ids, example.labels) if label != IGNORE]
    assert tok.decode(learned) == "hello there" + tok.eos_token  # the reply and its end
    system = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert render(tok, system).startswith(bos + "Be brief.\n\n### Instruction:\nhi")


def test_question_answer_format_and_chat_kept_for_a_chat_model(tokenizer, tmp_path):
    folder = base_model_folder(tokenizer, tmp_path / "base")
    apply_prompt_format(folder, "question-answer")
    tok = AutoTokenizer.from_pretrained(folder)
    assert generation_prompt(tok, "hi") == (tok.bos_token or "") + "Question: hi\nAnswer:"
    chat = tmp_path / "chat"
    tokenizer.save_pretrained(chat)
    before = {f.name: f.read_bytes() for f in chat.iterdir()}
    apply_prompt_format(chat, "chat")  # a chat model keeps its own template, untouched
    assert {f.name: f.read_bytes() for f in chat.iterdir()} == before
    apply_prompt_format(chat, "question-answer")  # replaces the chat model's own
    assert generation_prompt(AutoTokenizer.from_pretrained(chat), "hi").endswith("Answer:")
