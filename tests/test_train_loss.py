"""The loss per loss group (SDRRL's subsets), and the GPU knobs that can be checked on the CPU."""

import dataclasses
import importlib.machinery
import importlib.util
import os
import sys
import types

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

from radis.core.io import RadisError
from radis.train.distributed import Replicas
from radis.train.loop import (
    IGNORE,
    Example,
    LossModel,
    TrainConfig,
    checkpoint_layers,
    collate,
    expandable_segments,
    fit,
    group_targets,
    loss_scale,
    step_batches,
    target_count,
    token_loss_sum,
    tokenize_chat,
    train_step,
)
from radis.train.lora import load_base, load_lora, train_lora

LORA = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": "all-linear"}
#: Five chats in two groups of different sizes (3 rows, 29 target tokens; 2 rows, 12).
CHATS = [
    ("Repeat the word 'cat' 2 times.", "cat cat", "LL"),
    ("What is 2 + 3?", "The answer is 5.", "LL"),
    ("hi", "hello there, friend", "LL"),
    ("Translate from Aurish to English:\nrian.", "the king.", "mt"),
    ("Translate from Aurish to English:\nthe red cat.", "the red cat.", "mt"),
]


def examples(tokenizer):
    groups = {"LL": 0, "mt": 1}
    out = [tokenize_chat(tokenizer, p, c, 64) for p, c, _ in CHATS]
    for e, (_, _, g) in zip(out, CHATS):
        e.group = groups[g]
    return out


def by_hand(model, exs) -> torch.Tensor:
    """Σ_g (token CE of group g) / (target tokens of group g), one unpadded forward per row."""
    sums, counts = {}, {}
    for e in exs:
        logits = model(input_ids=torch.tensor([e.input_ids])).logits[0, :-1]
        labels = torch.tensor(e.labels[1:])
        ce = F.cross_entropy(logits, labels, ignore_index=IGNORE, reduction="sum")
        sums[e.group] = sums.get(e.group, 0) + ce
        counts[e.group] = counts.get(e.group, 0) + int((labels != IGNORE).sum())
    return sum(sums[g] / counts[g] for g in sums)


def step(model, exs, micro: int, n_groups: int, cfg=None) -> float:
    """One optimizer step's forward and backward through radis.train.loop (one process), with the
    step's own target tokens as the normaliser (the step of an average token count)."""
    mbs = [list(range(i, min(i + micro, len(exs)))) for i in range(0, len(exs), micro)]
    counts = group_targets(mbs, exs, [target_count(e) for e in exs], n_groups)
    batches = [(collate([exs[i] for i in mb], pad_id=0), True) for mb in mbs]
    cfg = cfg or TrainConfig(max_grad_norm=0.0)
    params = [p for p in model.parameters() if p.requires_grad]
    model = LossModel(model, n_groups, False)
    return float((train_step(model, batches, counts, params, cfg, Replicas()) / counts).sum())


def grads(model) -> dict:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_two_groups_sum_their_token_means_with_the_right_gradients(model_dir, tokenizer):
    exs = examples(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    expected = by_hand(model, exs)
    expected.backward()
    want = grads(model)
    model.zero_grad(set_to_none=True)
    # Groups spread over micro-batches of 2, 2 and 1 rows: counts must cover the whole step.
    loss = step(model, exs, micro=2, n_groups=2)
    assert loss == pytest.approx(expected.item(), rel=1e-5)
    for name, g in grads(model).items():
        torch.testing.assert_close(g, want[name], rtol=1e-4, atol=1e-6)
    # The plain token mean weighs the tokens otherwise (a random model's per-token losses are
    # all near ln(vocab), so its value alone would not tell them apart; its gradients do).
    model.zero_grad(set_to_none=True)
    for e in exs:
        e.group = 0
    step(model, exs, 2, 1)
    flat = torch.cat([2 * g.flatten() for g in grads(model).values()])
    assert (flat - torch.cat([g.flatten() for g in want.values()])).abs().max() > 1e-3


def old_step(model, batches) -> float:
    """The code before loss groups: summed CE (logits from the first labelled position on)
    divided by the step's target tokens, backpropagated per micro-batch."""
    n = sum(int((b["labels"][:, 1:] != IGNORE).sum()) for b in batches)
    total = 0.0
    for b in batches:
        width = b["labels"].size(1)
        keep = width - int((b["labels"] != IGNORE).any(dim=0).nonzero()[0]) + 1
        out = model(
            input_ids=b["input_ids"], attention_mask=b["attention_mask"], logits_to_keep=keep
        )
        logits, labels = out.logits[:, :-1].float(), b["labels"][:, width - keep + 1 :]
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)),
            labels.reshape(-1),
            ignore_index=IGNORE,
            reduction="sum",
        )
        loss = loss / max(n, 1)
        loss.backward()
        total += loss.item()
    return total


def test_one_group_is_the_old_token_mean_with_identical_gradients(model_dir, tokenizer):
    exs = examples(tokenizer)
    for e in exs:
        e.group = 0
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    mbs = [[0, 1], [2, 3], [4]]
    old = old_step(model, [collate([exs[i] for i in mb], pad_id=0) for mb in mbs])
    want = grads(model)
    model.zero_grad(set_to_none=True)
    new = step(model, exs, micro=2, n_groups=1)
    # The loss value sums per row, then rows (float order): equal to 1e-6. The gradients differ
    # only by float rounding: radis passes no attention mask (right padding, causal attention),
    # so attention takes the causal kernel instead of the masked one.
    assert new == pytest.approx(old, rel=1e-6)
    for name, g in grads(model).items():
        torch.testing.assert_close(g, want[name], rtol=1e-5, atol=1e-7)


#: Short and long replies: length grouping puts them in steps of very different token counts.
MIXED = [
    ("hi", "cat"),
    ("What is 2 + 3?", "5"),
    ("Repeat the word 'cat' 2 times.", "cat cat"),
    ("hi", "hello"),
    ("Translate from Aurish to English:\nrian.", "the king. " * 6),
    ("What is 2 + 3?", "The answer is 5, because 2 + 3 = 5. " * 3),
    ("hi", "hello there, friend, how are you today? " * 3),
    ("Translate from Aurish to English:\nthe red cat.", "the red cat sees the king. " * 4),
]


def epoch_gradient(model_dir, exs, cfg) -> tuple[dict, list]:
    """Gradients summed over every backward pass of ``fit``, and its log.

    The learning rate is so small (1e-30) that the weights never move: the sum is the gradient
    of the whole epoch's objective at the initial weights.
    """
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    total = {}
    for name, p in model.named_parameters():
        p.register_hook(lambda g, name=name: total.__setitem__(name, total.get(name, 0) + g))
    log = fit(model, exs, cfg, pad_id=0)
    return total, log


def weighted_gradient(model_dir, exs, weights) -> dict:
    """The gradient of Σ_rows weight(row) × (row's summed token losses), one row at a time."""
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    for e, w in zip(exs, weights):
        logits = model(input_ids=torch.tensor([e.input_ids])).logits[0, :-1]
        ce = F.cross_entropy(
            logits, torch.tensor(e.labels[1:]), ignore_index=IGNORE, reduction="sum"
        )
        (ce * w).backward()
    return grads(model)


def test_every_target_token_weighs_the_same_whatever_step_it_lands_in(model_dir, tokenizer):
    exs = [tokenize_chat(tokenizer, p, c, 128) for p, c in MIXED]
    targets = [target_count(e) for e in exs]
    grouped = TrainConfig(
        learning_rate=1.0e-30, lr_scheduler="constant", warmup_ratio=0.0, epochs=1,
        batch_size=4, micro_batch_size=2, max_grad_norm=0.0, length_window=2,
    )  # fmt: skip
    steps = step_batches([len(e.input_ids) for e in exs], grouped, epoch=0)
    step_tokens = sorted(sum(targets[i] for mb in s for i in mb) for s in steps)
    assert step_tokens[1] > 3 * step_tokens[0]  # a short-row step and a long-row step
    # Each token weighs 1 / (target tokens of an average 4-row step), in every step.
    scale = 4 * sum(targets) / len(exs)
    want = weighted_gradient(model_dir, exs, [1 / scale] * len(exs))
    logs = []
    for cfg in (grouped, dataclasses.replace(grouped, length_window=1, seed=1)):
        got, log = epoch_gradient(model_dir, exs, cfg)
        logs.append(log)
        assert got.keys() == want.keys()
        for name in want:
            torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-7)
    # The per-step token mean weighs a token of the short-row step more: another gradient.
    per_step = {
        i: 1 / sum(targets[j] for mb in s for j in mb) for s in steps for mb in s for i in mb
    }
    old = weighted_gradient(model_dir, exs, [per_step[i] for i in range(len(exs))])
    flat = torch.cat([got[n].flatten() for n in want])
    assert (flat - torch.cat([old[n].flatten() for n in want])).abs().max() > 1e-3
    # Logged: loss is the step's token mean; objective what was minimised (sum / scale).
    assert sorted(r["target_tokens"] for r in logs[0]) == step_tokens
    for r in logs[0] + logs[1]:
        assert r["objective"] == pytest.approx(r["loss"] * r["target_tokens"] / scale, rel=1e-5)


def test_steps_of_equal_token_counts_keep_the_plain_token_mean(model_dir, tokenizer):
    exs = [tokenize_chat(tokenizer, p, c, 64) for p, c, _ in CHATS[:2]] * 4
    targets = [target_count(e) for e in exs]
    cfg = TrainConfig(epochs=1, batch_size=4, micro_batch_size=2, length_window=1)
    steps = step_batches([len(e.input_ids) for e in exs], cfg, epoch=0)
    assert len({int(group_targets(s, exs, targets, 1)) for s in steps}) == 1
    scale = loss_scale(exs, targets, cfg.batch_size, 1)
    for s in steps:  # the normaliser is each step's own target tokens: the old token mean
        assert torch.equal(scale, group_targets(s, exs, targets, 1).double())
    log = fit(AutoModelForCausalLM.from_pretrained(model_dir), exs, cfg, pad_id=0)
    assert [r["objective"] for r in log] == pytest.approx([r["loss"] for r in log], rel=1e-6)


def test_loss_scale_is_per_group_and_per_run():
    exs = [Example([1] * 5, [IGNORE, 2, 3, 4, 5], g) for g in (0, 0, 0, 1)]
    exs.append(Example([1] * 3, [IGNORE, 2, 3], 0))
    targets = [target_count(e) for e in exs]
    # 18 target tokens over 5 rows, 8 rows a step: 28.8 tokens an average step; group 0 holds
    # 4 of the 5 rows, group 1 one: Eq. 6 divides each by its rows (|D_d|).
    assert loss_scale(exs, targets, 8, 2).tolist() == pytest.approx([28.8 * 4 / 5, 28.8 / 5])
    assert loss_scale(exs, targets, 8, 3)[2] == 1.0  # a group without rows: 1
    for e in exs:
        e.group = 0
    assert loss_scale(exs, targets, 8, 1).tolist() == [28.8]  # one group: the token mean's


#: Uneven subsets: four rows of group 0 (LL), one long and one short of group 1 (mt).
UNEVEN = [
    ("hi", "cat", 0),
    ("What is 2 + 3?", "The answer is 5.", 0),
    ("Repeat the word 'cat' 2 times.", "cat cat", 0),
    ("hi", "hello there, friend, how are you today?", 0),
    ("Translate from Aurish to English:\nrian.", "the king. " * 5, 1),
    ("Translate from Aurish to English:\nthe red cat.", "the red cat.", 1),
]


def test_groups_weigh_as_eq6_whatever_steps_their_rows_land_in(model_dir, tokenizer):
    exs = []
    for p, c, g in UNEVEN:
        exs.append(dataclasses.replace(tokenize_chat(tokenizer, p, c, 128), group=g))
    targets = [target_count(e) for e in exs]
    n, tokens, batch = len(exs), sum(targets), 4
    size = {g: sum(e.group == g for e in exs) for g in (0, 1)}  # |D_LL| = 4, |D_mt| = 2
    # Eq. 6 by hand: L = Σ_d (1/|D_d|) Σ_{rows of d} ℓ_CE(row), ℓ_CE the row's summed token
    # losses. One epoch's objective is L × (N / batch) × (N / T): each row weighs
    # (N / batch) (N / T) / |D_d|, whatever the composition of its step.
    weights = [n / batch * n / tokens / size[e.group] for e in exs]
    want = weighted_gradient(model_dir, exs, weights)
    cfg = TrainConfig(
        learning_rate=1.0e-30, lr_scheduler="constant", warmup_ratio=0.0, epochs=1,
        batch_size=batch, micro_batch_size=2, max_grad_norm=0.0, length_window=2,
    )  # fmt: skip
    for c in (cfg, dataclasses.replace(cfg, length_window=1, seed=3)):  # other steps
        got, _ = epoch_gradient(model_dir, exs, c)
        for name in want:
            torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-7)
    # The per-group token mean (each group's tokens over the group's tokens) weighs otherwise.
    group_tokens = {g: sum(t for e, t in zip(exs, targets) if e.group == g) for g in (0, 1)}
    old = weighted_gradient(model_dir, exs, [n / batch / group_tokens[e.group] for e in exs])
    flat = torch.cat([got[k].flatten() for k in want])
    assert (flat - torch.cat([old[k].flatten() for k in want])).abs().max() > 1e-3


def test_train_lora_groups_rows_by_their_group_column(model_dir, tokenizer, tmp_path):
    rows = pd.DataFrame(CHATS, columns=["prompt", "completion", "group"]).assign(masked_suffix="")
    cfg = TrainConfig(lora=LORA, epochs=1, batch_size=8, micro_batch_size=2, max_grad_norm=0.0)
    log = train_lora(model_dir, rows, cfg, tmp_path / "adapter")
    # A fresh LoRA adapter (B = 0) leaves the base model's outputs: step 1's loss is by_hand's.
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        expected = by_hand(base, examples(tokenizer)).item()
    assert log[0]["loss"] == pytest.approx(expected, rel=1e-5)
    assert log[0]["target_tokens"] == sum(target_count(e) for e in examples(tokenizer))


def test_gradient_checkpointing_same_loss_and_gradients(model_dir, tokenizer):
    exs = examples(tokenizer)
    out = {}
    for checkpointing in (False, True):
        _, model = load_lora(model_dir, TrainConfig(lora=LORA))
        if checkpointing:
            checkpoint_layers(model)
        model.train()
        out[checkpointing] = step(model, exs, 2, 2), grads(model)
    (loss, want), (loss_gc, got) = out[False], out[True]
    assert want and got.keys() == want.keys()
    # Recomputation runs the same float operations again: tolerance 1e-6 absolute.
    assert loss_gc == pytest.approx(loss, rel=1e-6)
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-5, atol=1e-6)


def test_fit_recomputes_layers_when_asked(model_dir, tokenizer):
    calls = {}
    for checkpointing in (False, True):
        _, model = load_lora(model_dir, TrainConfig(lora=LORA))
        mlp = model.get_base_model().model.layers[0].mlp  # inside the checkpointed forward
        calls[checkpointing] = 0

        def count(x, key=checkpointing, forward=mlp.forward):
            calls[key] += 1  # (module hooks do not fire on the recomputation)
            return forward(x)

        mlp.forward = count
        cfg = TrainConfig(
            lora=LORA, epochs=1, batch_size=5, micro_batch_size=5, gradient_checkpointing=True
        )
        cfg.gradient_checkpointing = checkpointing
        fit(model, examples(tokenizer), cfg, pad_id=0)
    assert calls == {False: 1, True: 2}  # one micro-batch: forward, and its recomputation


def test_attention_implementation_reaches_the_model(model_dir):
    _, model = load_lora(model_dir, TrainConfig(lora=LORA, attn_implementation="eager"))
    assert model.config._attn_implementation == "eager"
    _, model = load_base(model_dir)
    assert model.config._attn_implementation == "sdpa"


@pytest.mark.skipif(importlib.util.find_spec("flash_attn") is not None, reason="flash-attn here")
def test_flash_attention_without_the_package_is_one_line(model_dir):
    cfg = TrainConfig(lora=LORA, attn_implementation="flash_attention_2")
    with pytest.raises(RadisError) as err:
        load_lora(model_dir, cfg)
    assert str(err.value) == (
        "params.yaml: train.attn_implementation: flash_attention_2 needs the flash-attn "
        "package (GPU only), which is not installed: pip install flash-attn"
    )


@pytest.mark.skipif(importlib.util.find_spec("liger_kernel") is not None, reason="Liger here")
def test_fused_loss_without_liger_is_one_line(model_dir):
    with pytest.raises(RadisError) as err:
        load_lora(model_dir, TrainConfig(lora=LORA, fused_loss=True))
    assert str(err.value) == (
        "params.yaml: train.fused_loss: true needs the liger-kernel package (GPU only), which "
        "is not installed: make env GPU=1"
    )


class FusedStandIn(torch.nn.Module):
    """Liger's fused linear cross-entropy, computed the plain way (its documented result)."""

    def __init__(self, ignore_index=-100, reduction="mean"):
        super().__init__()
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, lin_weight, _input, target, bias=None):
        logits = F.linear(_input, lin_weight, bias).float()
        return F.cross_entropy(logits, target, ignore_index=self.ignore_index, reduction="sum")


def test_fused_path_feeds_the_final_hidden_states(model_dir, tokenizer, monkeypatch):
    # Liger needs a GPU; a stand-in with its interface checks what radis hands it: the decoder's
    # final (normed) hidden states at the kept positions, the output weight, per group.
    package = types.ModuleType("liger_kernel")
    package.__spec__ = importlib.machinery.ModuleSpec("liger_kernel", None)
    module = types.ModuleType("liger_kernel.transformers")
    module.LigerFusedLinearCrossEntropyLoss = FusedStandIn
    monkeypatch.setitem(sys.modules, "liger_kernel", package)
    monkeypatch.setitem(sys.modules, "liger_kernel.transformers", module)
    _, model = load_lora(model_dir, TrainConfig(lora=LORA, fused_loss=True))
    batch = collate(examples(tokenizer), pad_id=0)
    plain = token_loss_sum(model, batch, 2)
    plain.sum().backward()
    want = grads(model)
    model.zero_grad(set_to_none=True)
    fused = LossModel(model, 2, fused_loss=True)(**batch)
    fused.sum().backward()
    torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-5)
    for name, g in grads(model).items():
        torch.testing.assert_close(g, want[name], rtol=1e-4, atol=1e-6)


def test_bfloat16_base_trains_float32_adapters(model_dir, tokenizer):
    cfg = TrainConfig(lora=LORA, dtype="bfloat16", epochs=1, batch_size=5, micro_batch_size=5)
    _, model = load_lora(model_dir, cfg)
    lora = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert lora and all("lora_" in n and p.dtype == torch.float32 for n, p in lora.items())
    frozen = [p.dtype for p in model.parameters() if not p.requires_grad]
    assert set(frozen) == {torch.bfloat16}
    before = {n: p.detach().clone() for n, p in lora.items()}
    log = fit(model, examples(tokenizer), cfg, pad_id=0)
    assert len(log) == 1 and log[0]["loss"] > 0
    assert all(p.dtype == torch.float32 for p in lora.values())
    assert any(not torch.equal(p, before[n]) for n, p in lora.items())


def test_bfloat16_adapters_compute_in_bfloat16_and_match_float32(model_dir, tokenizer):
    """Under a bfloat16 base the adapter sees bfloat16 inputs (no float32 copy is kept) and its
    float32 gradients agree with a float32 run's; PEFT's input cast is back on after training."""
    cfg = TrainConfig(lora=LORA, dtype="bfloat16", epochs=1, batch_size=5, micro_batch_size=5)
    _, model = load_lora(model_dir, cfg)
    ref_cfg = TrainConfig(lora=LORA, epochs=1, batch_size=5, micro_batch_size=5)
    _, ref = load_lora(model_dir, ref_cfg)
    seen = []
    lora_a = next(m for n, m in model.named_modules() if n.endswith("q_proj.lora_A.default"))
    lora_a.register_forward_hook(lambda _m, args, out: seen.append((args[0].dtype, out.dtype)))
    exs = examples(tokenizer)
    batch = collate(exs, pad_id=0)
    counts = group_targets([list(range(5))], exs, [target_count(e) for e in exs], 2)
    for m, dtype in [(model, torch.bfloat16), (ref, None)]:
        loss_model = LossModel(m, 2, fused_loss=False, autocast=dtype)
        cfg_m = cfg if dtype else ref_cfg
        params = [p for p in m.parameters() if p.requires_grad]
        train_step(loss_model, [(batch, True)], counts, params, cfg_m, Replicas())
    assert seen == [(torch.bfloat16, torch.bfloat16)]
    got = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    want = {n: p.grad for n, p in ref.named_parameters() if p.requires_grad}
    assert all(g.dtype == torch.float32 for g in got.values())
    flat = torch.cat([g.flatten() for g in got.values()])
    flat_ref = torch.cat([want[n].flatten() for n in got])
    assert torch.linalg.vector_norm(flat - flat_ref) / torch.linalg.vector_norm(flat_ref) < 0.05
    assert all(m.cast_input_dtype_enabled for m in model.modules() if hasattr(m, "lora_A"))


def test_expandable_segments_is_a_default_the_user_can_override(monkeypatch):
    monkeypatch.delenv("PYTORCH_CUDA_ALLOC_CONF", raising=False)
    expandable_segments()
    assert os.environ["PYTORCH_CUDA_ALLOC_CONF"] == "expandable_segments:True"
    monkeypatch.setenv("PYTORCH_CUDA_ALLOC_CONF", "max_split_size_mb:512")
    expandable_segments()
    assert os.environ["PYTORCH_CUDA_ALLOC_CONF"] == "max_split_size_mb:512"


def test_training_steps_leave_out_cudnn_attention(model_dir, tokenizer):
    cfg = TrainConfig(lora=LORA, epochs=1, batch_size=5, micro_batch_size=5)
    _, model = load_lora(model_dir, cfg)
    seen = []
    attn = next(m for n, m in model.named_modules() if n.endswith("layers.0.self_attn"))
    attn.register_forward_hook(
        lambda *_: seen.append(
            (torch.backends.cuda.cudnn_sdp_enabled(), torch.backends.cuda.flash_sdp_enabled())
        )
    )
    exs = examples(tokenizer)
    counts = group_targets([list(range(5))], exs, [target_count(e) for e in exs], 2)
    before = torch.backends.cuda.cudnn_sdp_enabled()
    params = [p for p in model.parameters() if p.requires_grad]
    loss_model = LossModel(model, 2, fused_loss=False)
    train_step(loss_model, [(collate(exs, pad_id=0), True)], counts, params, cfg, Replicas())
    assert seen == [(False, True)]
    assert torch.backends.cuda.cudnn_sdp_enabled() == before


def test_full_finetuning_trains_every_weight_and_saves_the_model(model_dir, tmp_path):
    rows = pd.DataFrame(CHATS, columns=["prompt", "completion", "group"]).assign(masked_suffix="")
    cfg = TrainConfig(finetuning="full", lora={"r": 0}, epochs=1, batch_size=8,
                      micro_batch_size=4, dtype="bfloat16", learning_rate=1.0e-2)  # fmt: skip
    log = train_lora(model_dir, rows, cfg, tmp_path / "full")
    assert not (tmp_path / "full" / "adapter_config.json").exists()
    trained = AutoModelForCausalLM.from_pretrained(tmp_path / "full")
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    assert trained.dtype == torch.float32  # float32 master weights, bf16 autocast forward
    before, after = dict(base.named_parameters()), dict(trained.named_parameters())
    assert all(not torch.equal(before[k], after[k]) for k in after)  # every weight moved
    assert len(log) == 1
    assert (
        tmp_path / "full" / "tokenizer.json"
    ).is_file()  # loadable as it is (radis.generate.serve)
    with pytest.raises(ValueError, match="lora.r"):
        TrainConfig(lora={"r": 0})  # checked only when LoRA is trained
