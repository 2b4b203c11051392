"""The vLLM backend against a stand-in ``vllm`` (tests/stand_in): calls, settings, order, LoRA."""

import importlib
import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from chat_templates import TEMPLATES, with_template
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from radis.core import progress
from radis.core.config import parse
from radis.core.io import RadisError
from radis.core.params import BaseConfig, VLLMConfig
from radis.core.templates import continuation_prompt, generation_prompt
from radis.data.rationales import RationaleConfig, generate_rationales
from radis.data.selfgen import SelfGenConfig, self_generate
from radis.evaluate.translation import EvaluateConfig, translate
from radis.generate.backend import GenerationConfig
from radis.generate.hf import HFBackend
from radis.generate.load import load_backend
from radis.generate.serve import open_backend
from radis.generate.vllm import sampling_params

STAND_IN = Path(__file__).parent / "stand_in"

ROWS = pd.DataFrame(
    {
        "id": [f"r{i}" for i in range(6)],
        "src_lang": ["en", "qa", "en", "qb", "en", "qa"],
        "tgt_lang": ["qa", "en", "qb", "en", "qa", "en"],
        "source": ["the cat.", "miro.", "the dog.", "zobex.", "a red cat.", "lo miro."],
        "reference": ["miro.", "the cat.", "zobex.", "the dog.", "lo miro.", "a red cat."],
    }
)


def _drop_vllm_modules():
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        del sys.modules[name]


@pytest.fixture
def vllm(monkeypatch):
    """The stand-in ``vllm`` package, importable as ``vllm`` during one test."""
    _drop_vllm_modules()
    monkeypatch.syspath_prepend(str(STAND_IN))
    module = importlib.import_module("vllm")
    assert module.STAND_IN
    yield module
    _drop_vllm_modules()


def _answers(vllm, tokenizer, prompts: list[str], max_tokens: int) -> list[tuple]:
    """The stand-in's (text, token count, finish reason) for each prompt, all distinct."""
    ids = [tokenizer.encode(p, add_special_tokens=False) for p in prompts]
    out = [vllm.answer(tokenizer, i, max_tokens) for i in ids]
    assert len({text for text, _, _ in out}) == len(prompts)
    return [(text, len(token_ids), reason) for text, token_ids, reason in out]


def test_engine_gets_the_vllm_settings_and_no_lora_without_an_adapter(vllm, model_dir):
    settings = VLLMConfig(tensor_parallel_size=2, gpu_memory_utilization=0.5, max_model_len=1024)
    load_backend("vllm", model_dir, "bfloat16", vllm=settings, seed=3)
    engine = vllm.LLM.instances[-1]
    assert engine.model == str(model_dir)
    assert engine.kwargs == dict(
        dtype="bfloat16",
        seed=3,
        tensor_parallel_size=2,
        gpu_memory_utilization=0.5,
        max_model_len=1024,
    )


def test_rationales_continue_the_reference_in_one_chat_call_and_keep_row_order(vllm, model_dir):
    backend = load_backend("vllm", model_dir)
    cfg = RationaleConfig(generation=GenerationConfig(max_new_tokens=8))
    table = generate_rationales(ROWS, backend, cfg, seed=7)

    [call] = vllm.LLM.instances[-1].calls
    assert call.method == "chat"
    assert call.continue_final_message is True and call.add_generation_prompt is False
    assert call.lora_request is None
    assert (call.params.max_tokens, call.params.temperature, call.params.seed) == (8, 0.0, 7)
    assert call.rendered == table.prompt.tolist()  # vLLM renders exactly the stored prompt
    assert call.returned_ids != sorted(call.returned_ids, key=int)  # really shuffled
    tok = backend.tokenizer
    assert table.id.tolist() == ROWS.id.tolist()
    expected = _answers(vllm, tok, table.prompt.tolist(), 8)
    got = zip(table.rationale, table.rationale_tokens, table.finish_reason)
    assert list(got) == expected
    for row in table.itertuples():
        assert row.prompt.endswith("<|im_start|>assistant\n" + row.reference)
        assert row.prompt_tokens == len(tok.encode(row.prompt, add_special_tokens=False))


def test_evaluation_and_selfgen_prompts_open_a_reply(vllm, model_dir):
    backend = load_backend("vllm", model_dir)
    gen = GenerationConfig(max_new_tokens=64)
    preds = translate(backend, ROWS, EvaluateConfig(generation=gen), seed=0)
    rewrites = self_generate("rewrite", ROWS, backend, SelfGenConfig(gen), seed=0)

    translate_call, rewrite_call = vllm.LLM.instances[-1].calls
    for call in (translate_call, rewrite_call):
        assert call.method == "chat"
        assert call.add_generation_prompt is True and call.continue_final_message is False
        assert all(r.endswith("<|im_start|>assistant\n") for r in call.rendered)
    tok = backend.tokenizer
    assert translate_call.rendered == [generation_prompt(tok, u) for u in preds.prompt]
    expected = _answers(vllm, tok, translate_call.rendered, 64)
    assert list(zip(preds.output, preds.finish_reason)) == [(t, r) for t, _, r in expected]
    assert rewrite_call.rendered == rewrites.prompt.tolist()
    assert all(r.startswith("<|im_start|>system\n") for r in rewrite_call.rendered)


def test_sampling_params_follow_the_generation_config():
    greedy = sampling_params(GenerationConfig(max_new_tokens=9, temperature=0.7, seed=2))
    assert greedy == dict(n=1, max_tokens=9, seed=2, temperature=0.0)
    sampled = GenerationConfig(do_sample=True, temperature=0.7, top_p=0.9, seed=2)
    assert sampling_params(sampled) == dict(n=1, max_tokens=256, seed=2, temperature=0.7, top_p=0.9)


def test_shards_are_one_call_each_with_their_own_seed_and_order_is_kept(
    vllm, model_dir, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    backend = open_backend(BaseConfig(backend="vllm", shard_rows=4), str(model_dir), "t")
    tok = backend.tokenizer
    prompts = [generation_prompt(tok, f"say {w} twice.") for w in "abcdefghij"]
    out = backend.generate(prompts, GenerationConfig(max_new_tokens=6, seed=10))

    calls = vllm.LLM.instances[-1].calls
    assert [len(c.prompt_token_ids) for c in calls] == [4, 4, 2]
    assert [c.params.seed for c in calls] == [10, 11, 12]
    expected = _answers(vllm, tok, prompts, 6)
    assert [(c.text, c.completion_tokens, c.finish_reason) for c in out] == expected
    again = open_backend(BaseConfig(backend="vllm", shard_rows=4), str(model_dir), "t")
    resumed = again.generate(prompts, GenerationConfig(max_new_tokens=6, seed=10))
    assert resumed == out and vllm.LLM.instances[-1].calls == []  # every shard from disk
    hf_key = open_backend(BaseConfig(backend="hf", shard_rows=4), str(model_dir), "t")
    assert hf_key.fingerprint != backend.fingerprint  # another backend never resumes these


def test_vllms_own_bar_is_shown_a_line_every_5_percent_in_a_log(
    vllm, model_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    backend = open_backend(BaseConfig(backend="vllm", shard_rows=40), str(model_dir), "v")
    tok = backend.tokenizer
    chats = [continuation_prompt(tok, f"Translate: the {i} cats.", "miro.") for i in range(30)]
    backend.generate(chats + [f"plain {i}" for i in range(30)], GenerationConfig(max_new_tokens=4))
    calls = vllm.LLM.instances[-1].calls
    assert [c.use_tqdm for c in calls] == [progress.LineBar] * 3  # stderr is not a terminal
    err = capsys.readouterr().err.splitlines()
    vllm_lines = [line for line in err if line.startswith("Processed prompts:")]
    assert 3 <= len(vllm_lines) <= 3 * 22 and "toks/s" in vllm_lines[-1]
    ours = [line for line in err if line.startswith("v:")]
    assert ours[-1].startswith("v: 100% 60/60") and "tok/s" in ours[-1]


def test_rendered_strings_go_to_generate_as_token_ids_and_mixed_lists_keep_order(vllm, model_dir):
    backend = load_backend("vllm", model_dir)
    tok = backend.tokenizer
    plain = ["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "the red cat sees"]
    chat = continuation_prompt(tok, "Translate: the cat.", "miro.")
    prompts = [plain[0], chat, plain[1]]
    out = backend.generate(prompts, GenerationConfig(max_new_tokens=8))

    generate_call, chat_call = vllm.LLM.instances[-1].calls
    assert generate_call.method == "generate" and chat_call.method == "chat"
    assert generate_call.prompt_token_ids == [
        tok(p, add_special_tokens=False)["input_ids"] for p in plain
    ]
    assert chat_call.rendered == [chat] and chat_call.continue_final_message is True
    assert [c.text for c in out] == [t for t, _, _ in _answers(vllm, tok, prompts, 8)]


def test_an_adapter_is_served_with_a_lora_request(vllm, model_dir, tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    backend = load_backend("vllm", model_dir, adapter=adapter, vllm=VLLMConfig(max_lora_rank=32))
    engine = vllm.LLM.instances[-1]
    assert engine.model == str(model_dir)
    assert engine.kwargs["enable_lora"] is True and engine.kwargs["max_lora_rank"] == 32
    backend.generate([generation_prompt(backend.tokenizer, "hi")], GenerationConfig())
    [call] = engine.calls
    assert call.lora_request == vllm.lora.request.LoRARequest("adapter", 1, str(adapter))
    with pytest.raises(RadisError, match="model directory not found"):
        load_backend("vllm", model_dir, adapter=tmp_path / "missing")


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_vllm_renders_the_pipeline_prompt_for_each_real_template(vllm, name, tokenizer, tmp_path):
    model = tmp_path / name
    with_template(tokenizer, name, model)
    backend = load_backend("vllm", model)
    table = generate_rationales(ROWS, backend, RationaleConfig(), seed=0)
    [call] = vllm.LLM.instances[-1].calls
    assert call.rendered == table.prompt.tolist()
    eos = backend.tokenizer.eos_token_id
    for ids, reference in zip(call.prompt_token_ids, table.reference):
        assert ids[-1] != eos
        assert backend.tokenizer.decode(ids).endswith(reference)


def test_missing_vllm_is_a_one_line_error(model_dir):
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here: its absence cannot be tested")
    with pytest.raises(RadisError, match="vllm is not installed"):
        load_backend("vllm", model_dir)


def test_vllm_settings_are_validated():
    base = parse(BaseConfig, {"backend": "vllm", "vllm": {"max_model_len": 2048}}, "p: base")
    assert base.vllm == VLLMConfig(max_model_len=2048)
    with pytest.raises(RadisError, match=r"base\.vllm\.gpu_memory_utilization: must be in"):
        parse(BaseConfig, {"vllm": {"gpu_memory_utilization": 1.5}}, "p: base")
    with pytest.raises(RadisError, match=r"base\.vllm: unknown field\(s\) \['enable_lora'\]"):
        parse(BaseConfig, {"vllm": {"enable_lora": True}}, "p: base")
    with pytest.raises(RadisError, match="unknown backend 'tgi'"):
        load_backend("tgi", "x")


def test_hf_backend_merges_an_adapter_in_memory(model_dir, tmp_path):
    torch.manual_seed(0)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir), lora)
    peft_model.save_pretrained(tmp_path / "adapter")
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(tmp_path / "merged")
    backend = HFBackend(model_dir, adapter=tmp_path / "adapter")
    backend.tokenizer.save_pretrained(tmp_path / "merged")

    prompts = [generation_prompt(backend.tokenizer, u) for u in ("hi", "the cat sees the dog.")]
    cfg = GenerationConfig(max_new_tokens=6)
    with_adapter = [c.text for c in backend.generate(prompts, cfg)]
    assert with_adapter == [c.text for c in HFBackend(tmp_path / "merged").generate(prompts, cfg)]
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    q_proj = [m.model.layers[0].self_attn.q_proj.weight for m in (backend.model, base)]
    assert not torch.allclose(*q_proj)  # the adapter did change the model
