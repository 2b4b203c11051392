"""radis.train.kernel: the fused LoRA layer computes what PEFT's does, and fit uses it."""

import pandas as pd
import pytest
import torch
from peft.tuners import lora

import radis.train.kernel
from radis.train.kernel import fused_lora
from radis.train.loop import TrainConfig
from radis.train.lora import load_lora, train_lora

LORA = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": "all-linear"}


def adapted(model_dir, **lora_kwargs):
    """The tiny model with a LoRA adapter whose B matrices are not zero (PEFT starts them at 0)."""
    _, model = load_lora(model_dir, TrainConfig(lora={**LORA, **lora_kwargs}))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.2)
    return model


def logits_and_grads(model, ids, autocast=None):
    """Logits of ``ids`` and the adapter's gradients of a loss on them."""
    model.zero_grad()
    with torch.autocast("cpu", dtype=autocast or torch.bfloat16, enabled=autocast is not None):
        logits = model(input_ids=ids).logits
    logits.float().pow(2).mean().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return logits.detach(), grads


def relative(got: dict, want: dict) -> float:
    flat = torch.cat([got[n].flatten() for n in want])
    ref = torch.cat([g.flatten() for g in want.values()])
    return float(torch.linalg.vector_norm(flat - ref) / torch.linalg.vector_norm(ref))


@pytest.fixture
def ids():
    return torch.randint(0, 300, (3, 17), generator=torch.Generator().manual_seed(0))


def test_fused_layers_match_peft_in_float32(model_dir, ids, monkeypatch):
    model = adapted(model_dir)
    n_lora = sum(type(m) is lora.Linear for m in model.modules())
    want_logits, want_grads = logits_and_grads(model, ids)
    calls = []
    apply = radis.train.kernel.LoraLinear.apply
    monkeypatch.setattr(
        radis.train.kernel.LoraLinear, "apply", lambda *a: calls.append(1) or apply(*a)
    )
    with fused_lora(model) as switched:
        logits, grads = logits_and_grads(model, ids)
    assert switched == n_lora == 14  # 7 linear layers in each of 2 blocks
    assert len(calls) == n_lora
    torch.testing.assert_close(logits, want_logits, rtol=1e-5, atol=1e-5)
    assert relative(grads, want_grads) < 1e-5
    assert all(g.abs().sum() > 0 for g in grads.values())
    assert not any("forward" in vars(m) for m in model.modules())  # PEFT's forward is back


def test_fused_layers_compute_in_bfloat16_under_autocast(model_dir, ids):
    model = adapted(model_dir)
    _, want = logits_and_grads(model, ids)
    with fused_lora(model):
        logits, grads = logits_and_grads(model, ids, autocast=torch.bfloat16)
    assert logits.dtype == torch.bfloat16
    assert all(g.dtype == torch.float32 for g in grads.values())
    assert relative(grads, want) < 0.05


@pytest.mark.parametrize(
    ("kwargs", "fused"),
    [
        ({"lora_dropout": 0.1}, 0),
        ({"lora_bias": True}, 0),
        ({"use_dora": True}, 0),
        ({"bias": "all"}, 8),  # trained biases: q, k, v keep PEFT's; o, gate, up, down have none
    ],
)
def test_layers_the_kernel_does_not_cover_keep_peft_forward(model_dir, kwargs, fused):
    with fused_lora(adapted(model_dir, **kwargs)) as switched:
        assert switched == fused


def test_disabled_adapter_takes_the_base_path(model_dir, ids):
    model = adapted(model_dir)
    with model.disable_adapter():
        base = model(input_ids=ids).logits
    with fused_lora(model), model.disable_adapter():
        assert torch.equal(model(input_ids=ids).logits, base)
    with fused_lora(model):
        assert not torch.allclose(model(input_ids=ids).logits, base)


def test_train_lora_trains_through_the_fused_layers(model_dir, tmp_path, monkeypatch):
    calls = []
    apply = radis.train.kernel.LoraLinear.apply
    monkeypatch.setattr(
        radis.train.kernel.LoraLinear, "apply", lambda *a: calls.append(1) or apply(*a)
    )
    rows = pd.DataFrame(
        {"prompt": ["hi", "2 + 3?"], "completion": ["hello", "5"], "masked_suffix": "", "group": ""}
    )
    cfg = TrainConfig(lora=LORA, epochs=1, batch_size=2, micro_batch_size=2)
    train_lora(model_dir, rows, cfg, tmp_path / "adapter")
    assert len(calls) == 14  # one forward of 14 layers
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
