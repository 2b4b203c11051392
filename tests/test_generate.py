import pandas as pd
import pytest

from radis.data.rationales import generate_rationales
from radis.generate.backend import GenerationConfig, token_batches
from radis.generate.hf import HFBackend


def test_token_batches_respect_the_budget_and_cover_all():
    lengths = [5, 50, 7, 30, 12, 3, 44]
    batches = token_batches(lengths, budget=200, max_new_tokens=10)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) == 1 or len(b) * (max(lengths[i] for i in b) + 10) <= 200
    firsts = [lengths[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)


@pytest.fixture(scope="module")
def backend(model_dir):
    return HFBackend(model_dir)


def test_batched_generation_equals_one_by_one_in_input_order(backend):
    prompts = [
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>user\nRepeat the word 'cat' 3 times. Please do.<|im_end|>\n"
        "<|im_start|>assistant\n",
        "<|im_start|>user\nthe dog<|im_end|>\n<|im_start|>assistant\nthe",
    ]
    cfg = GenerationConfig(max_new_tokens=8, batch_tokens=4096)
    together = backend.generate(prompts, cfg)
    alone = [backend.generate([p], cfg)[0] for p in prompts]
    assert [c.text for c in together] == [c.text for c in alone]
    for prompt, c in zip(prompts, together):
        assert c.prompt_tokens == len(
            backend.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        )
        assert c.finish_reason in ("stop", "length")
        assert c.completion_tokens <= 8
        assert c.finish_reason == "stop" or c.completion_tokens == 8


def test_rationale_rows_keep_prompt_reference_and_order(backend):
    rows = pd.DataFrame(
        {
            "id": ["b", "a"],
            "src_lang": ["en", "qa"],
            "tgt_lang": ["qa", "en"],
            "source": ["the cat.", "miro."],
            "reference": ["miro.", "the cat."],
        }
    )
    table = generate_rationales(rows, backend, _cfg(), seed=0)
    assert table.id.tolist() == ["b", "a"]
    for prompt, ref, inst in zip(table.prompt, table.reference, table.instruction):
        assert prompt.endswith("<|im_start|>assistant\n" + ref)
        assert inst in prompt
    assert (table.rationale_tokens <= 6).all()


def _cfg():
    from radis.data.rationales import RationaleConfig

    return RationaleConfig(generation=GenerationConfig(max_new_tokens=6))
