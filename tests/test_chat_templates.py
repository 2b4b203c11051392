"""The pipeline's prompts under the real chat templates of Llama-2, Mistral and Qwen2.5."""

import pandas as pd
import pytest
from chat_templates import QWEN_SYSTEM, TEMPLATES, with_template

from radis.core.io import RadisError
from radis.core.templates import continuation_prompt, generation_prompt, instruction
from radis.data.rationales import RationaleConfig, generate_rationales
from radis.data.selfgen import SDFT_SYSTEM, sdft_prompt
from radis.generate.backend import Completion

USER = instruction(2, "en", "qb", "the cats see the dog.")
REFERENCE = "lo zobex mibexpil."
QWEN_USER = f"<|im_start|>system\n{QWEN_SYSTEM}<|im_end|>\n<|im_start|>user\n{USER}<|im_end|>\n"
#: name -> (the rationale prompt, the generation prompt), as the hub templates render them.
EXPECTED = {
    "llama2": (f"<s>[INST] {USER} [/INST] {REFERENCE}", f"<s>[INST] {USER} [/INST]"),
    "mistral": (f"<s> [INST] {USER} [/INST] {REFERENCE}", f"<s> [INST] {USER} [/INST]"),
    "qwen2.5": (
        f"{QWEN_USER}<|im_start|>assistant\n{REFERENCE}",
        f"{QWEN_USER}<|im_start|>assistant\n",
    ),
}


@pytest.fixture(scope="module", params=list(TEMPLATES))
def chat(request, tokenizer, tmp_path_factory):
    """(template name, a tiny tokenizer carrying that template and its special tokens)."""
    name = request.param
    return name, with_template(tokenizer, name, tmp_path_factory.mktemp(name))


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_the_template_writes_an_end_of_turn_after_a_finished_reply(chat):
    name, tok = chat
    messages = [{"role": "user", "content": USER}, {"role": "assistant", "content": REFERENCE}]
    full = tok.apply_chat_template(messages, tokenize=False)
    assert full.startswith(EXPECTED[name][0])
    assert full[len(EXPECTED[name][0]) :] in (" </s>", "</s>", "<|im_end|>\n")


def test_rationale_prompt_ends_exactly_with_the_reference_and_no_end_of_turn(chat):
    name, tok = chat
    prompt = continuation_prompt(tok, USER, REFERENCE)
    assert prompt == EXPECTED[name][0]
    assert prompt.messages[-1] == {"role": "assistant", "content": REFERENCE}
    assert prompt.continue_final
    ids = _ids(tok, prompt)
    assert tok.eos_token_id not in ids[-len(_ids(tok, REFERENCE)) - 2 :]
    assert tok.decode(ids).endswith(REFERENCE)
    assert tok.convert_ids_to_tokens(ids[-1]) not in tok.all_special_tokens


def test_a_reference_with_trailing_space_is_continued_as_given(chat):
    name, tok = chat  # even Llama-2's, whose template strips message contents
    assert continuation_prompt(tok, USER, REFERENCE + " ") == EXPECTED[name][0] + " "


def test_generation_prompt_opens_the_reply(chat):
    name, tok = chat
    prompt = generation_prompt(tok, USER)
    assert prompt == EXPECTED[name][1]
    assert not prompt.continue_final
    assert _ids(tok, prompt)[-1] != tok.eos_token_id


def test_sdft_prompt_carries_its_system_message(chat):
    name, tok = chat
    prompt = sdft_prompt(tok, USER, REFERENCE)
    assert SDFT_SYSTEM in prompt and QWEN_SYSTEM not in prompt
    assert prompt.endswith("<|im_start|>assistant\n" if name == "qwen2.5" else " [/INST]")


def test_rationale_table_stores_the_prompts_the_backend_continues(chat):
    name, tok = chat

    class Recording:
        tokenizer = tok

        def generate(self, prompts, cfg):
            self.prompts = list(prompts)
            return [Completion(" r", "stop", 1, 1) for _ in prompts]

    rows = pd.DataFrame(
        {
            "id": ["a", "b"],
            "src_lang": ["en", "qa"],
            "tgt_lang": ["qa", "en"],
            "source": ["the cat.", "miro."],
            "reference": ["miro.", "the cat."],
        }
    )
    backend = Recording()
    table = generate_rationales(rows, backend, RationaleConfig(), seed=0)
    assert backend.prompts == table.prompt.tolist()
    for prompt, reference in zip(table.prompt, table.reference):
        tail = {"qwen2.5": "<|im_start|>assistant\n"}.get(name, " [/INST] ") + reference
        assert prompt.endswith(tail)


def test_a_template_that_leaves_text_after_the_reply_is_a_clear_error():
    class Trailing:
        """A tokenizer whose rendering keeps an end-of-turn after the continued reply."""

        def apply_chat_template(self, messages, **kwargs):
            return f"[INST] {messages[0]['content']} [/INST] {messages[1]['content']} </s>"

    with pytest.raises(RadisError, match="does not end with reply 'ok.'"):
        continuation_prompt(Trailing(), "hi", "ok.")
