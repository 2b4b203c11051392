"""The GPU benchmarks (bench/gpu_train.py, bench/gpu_generate.py) in their CPU ``--tiny`` mode,
and bench/gpu_fsdp.py's plain half (its FSDP half needs a GPU)."""

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import gpu_fsdp  # noqa: E402
import gpu_generate  # noqa: E402
import gpu_train  # noqa: E402


def run(script: str, *flags: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--tiny", *flags],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def figure(out: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}: ([0-9.]+(?:e[-+]?[0-9]+)?)", out)
    assert match, f"{label!r} not in:\n{out}"
    return float(match.group(1))


def test_lora_step_flops_by_hand():
    # Two sequences: (4·100 + 6·7)·10 + 4·50·4 + 6·2·8·10² = 4420 + 800 + 9600 = 14820,
    # and (4·100 + 6·7)·3 + 4·50·0 + 6·2·8·3² = 1326 + 0 + 864 = 2190.
    flops = gpu_train.lora_step_flops([10, 3], [4, 0], 100, 50, 7, layers=2, hidden=8)
    assert flops == 14820 + 2190
    assert gpu_train.mfu(17010.0, 2.0, 1e-9) == pytest.approx(17010.0 / 2.0 / 1e3)


def test_qwen25_7b_parameter_count():
    # The model card says 7.61 B. By hand: embedding and output layer 2·152064·3584; per layer
    # q/o 2·3584², k/v 2·512·3584, q/k/v biases 3584 + 2·512, MLP 3·3584·18944, norms 2·3584;
    # a final norm. Counted on the meta device (no memory).
    layer = 2 * 3584**2 + 2 * 512 * 3584 + 3584 + 2 * 512 + 3 * 3584 * 18944 + 2 * 3584
    expected = 2 * 152064 * 3584 + 28 * layer + 3584
    assert expected == 7_615_616_512
    model = gpu_train.build_model(gpu_train.QWEN25_7B, "meta", torch.bfloat16)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_datasheet_peaks_match_device_names():
    assert gpu_train.table_tflops("NVIDIA H100 80GB HBM3") == 989.4
    assert gpu_train.table_tflops("NVIDIA H100 PCIe") == 756.0
    assert gpu_train.table_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu_train.table_tflops("cpu") is None


def test_decode_bound():
    # 8 rows, 14 GB of weights read per step at 3.5 TB/s: 250 steps/s, 2000 tokens/s.
    assert gpu_generate.decode_bound(8, 14e9, 3.5e12) == pytest.approx(2000.0)


def test_generation_is_forced_to_full_length_even_when_eos_wins():
    model = gpu_train.build_model(gpu_train.TINY, "cpu", torch.float32)
    tokenizer = gpu_generate.word_tokenizer(gpu_train.TINY["vocab_size"])

    def eos_first(module, inputs, logits):
        logits[..., tokenizer.eos_token_id] = 1e4
        return logits

    model.lm_head.register_forward_hook(eos_first)
    backend = gpu_generate.InMemoryBackend(model, tokenizer)
    prompts = ["t5 t6 t7", "t9 t10 t11"]
    cfg = gpu_generate.GenerationConfig(max_new_tokens=4)
    assert [c.completion_tokens for c in backend.generate(prompts, cfg)] == [1, 1]
    assert gpu_generate.timed_generate(backend, prompts, 4) > 0  # exits unless all have 4 tokens


@pytest.mark.slow
def test_gpu_train_tiny_prints_positive_figures():
    out = run("gpu_train.py", "--steps", "2", "--warmup", "1", "--batch-size", "4",
              "--micro-batch-size", "2", "--prompt-mean", "20", "--reply-mean", "30")  # fmt: skip
    for label in ["tokens/s", "peak memory GiB", "matmul TFLOP/s measured", "model TFLOP/s", "MFU"]:
        assert figure(out, label) > 0
    assert "steps timed: 2 after 1 warm-up" in out


@pytest.mark.slow
def test_gpu_train_peft_forward_switches_the_fused_lora_layers_off():
    out = run("gpu_train.py", "--steps", "1", "--warmup", "0", "--batch-size", "2",
              "--micro-batch-size", "2", "--prompt-mean", "10", "--reply-mean", "10",
              "--peft-forward")  # fmt: skip
    assert "forward: PEFT" in out and figure(out, "tokens/s") > 0


def test_gpu_fsdp_plain_half_trains_and_saves_the_adapter(tmp_path):
    for e in gpu_fsdp.examples():  # the prompt masked, the reply learned
        p = e.labels.count(gpu_fsdp.IGNORE)
        assert 10 <= p <= 40 and e.labels[p:] == e.input_ids[p:]
    gpu_fsdp.train("float32", tmp_path / "plain.pt")
    saved = torch.load(tmp_path / "plain.pt")
    assert len(saved["losses"]) == 8 and not saved["sharded"]  # 64 rows, 8 a step
    assert len(saved["lora"]) == 2 * 7 * gpu_fsdp.ARCH["num_hidden_layers"]
    assert any(v.abs().sum() > 0 for k, v in saved["lora"].items() if "lora_B" in k)


def test_gpu_train_passes_given_knobs_to_trainconfig_only():
    given = gpu_train.train_config(
        gpu_train.parse_args(
            ["--tiny", "--gradient-checkpointing", "--attn-implementation", "eager"]
        )
    )
    default = gpu_train.train_config(gpu_train.parse_args(["--tiny"]))
    assert (given.gradient_checkpointing, given.attn_implementation) == (True, "eager")
    assert (default.gradient_checkpointing, default.attn_implementation) == (False, "sdpa")


def test_gpu_train_exits_with_one_line_when_trainconfig_lacks_a_knob(monkeypatch):
    @dataclasses.dataclass
    class OldTrainConfig:  # a TrainConfig from before the knobs
        lora: dict
        epochs: int
        batch_size: int
        warmup_ratio: float
        micro_batch_size: int
        max_length: int
        dtype: str
        checkpoint_every: int

    monkeypatch.setattr(gpu_train, "TrainConfig", OldTrainConfig)
    monkeypatch.setattr(gpu_train, "check_kernels", lambda cfg: None)
    assert isinstance(gpu_train.train_config(gpu_train.parse_args(["--tiny"])), OldTrainConfig)
    with pytest.raises(SystemExit, match="unexpected keyword argument 'fused_loss'"):
        gpu_train.train_config(gpu_train.parse_args(["--tiny", "--fused-loss"]))


@pytest.mark.slow
def test_gpu_generate_tiny_prints_positive_figures():
    out = run("gpu_generate.py", "--batch-sizes", "1", "3", "--prompt-length", "8",
              "--new-tokens", "12")  # fmt: skip
    for label in ["weights GB read per step", "copy bandwidth GB/s measured"]:
        assert figure(out, label) > 0
    for b in (1, 3):
        line = next(s for s in out.splitlines() if s.startswith(f"batch {b}:"))
        for label in ["new tokens/s", "decode tokens/s", "bound tokens/s", "of bound"]:
            assert figure(line, label) > 0
