"""LoRA training throughput and MFU of radis's loop on a random-weight Qwen2.5-7B-shaped model.

Usage, from the repository root (no download: the model is built from the config below):
    .venv/bin/python bench/gpu_train.py [--steps 10] [--warmup 3] [--batch-size 32]
        [--micro-batch-size 8] [--prompt-mean 100] [--reply-mean 150] [--sigma 0.6]
        [--micro-batch-tokens 8192] [--attn-implementation sdpa] [--gradient-checkpointing]
        [--fused-loss] [--peft-forward] [--tiny]

Builds Qwen2ForCausalLM with the architecture of Qwen/Qwen2.5-7B-Instruct's config.json, random
bf16 weights created on the GPU, wraps it in LoRA r=16 on every linear layer (as the ``train``
params) and runs ``radis.train.loop.fit`` on synthetic examples: prompt and reply lengths log-normal
with the given means and log-sd ``--sigma`` (0: fixed lengths), the prompt masked from the loss.
The first ``--warmup`` optimizer steps are not timed. The optional knobs go to ``TrainConfig``
only when given (an older ``TrainConfig`` rejects them), the attention kernel to the model too.
``--peft-forward`` trains through PEFT's own LoRA forward instead of ``radis.train.kernel``'s.
``--tiny`` runs the same code on the CPU with a 2-layer float32 model in seconds, MFU against
the measured matmul rate.
"""

import argparse
import contextlib
import math
import resource
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, Qwen2Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import radis.train.loop  # noqa: E402
from radis.core.io import RadisError  # noqa: E402
from radis.train.loop import (  # noqa: E402
    IGNORE,
    Example,
    TrainConfig,
    check_kernels,
    expandable_segments,
    fit,
    step_batches,
)
from radis.train.lora import lora_config  # noqa: E402

# The architecture fields of Qwen/Qwen2.5-7B-Instruct's config.json.
QWEN25_7B = dict(
    hidden_size=3584,
    intermediate_size=18944,
    num_hidden_layers=28,
    num_attention_heads=28,
    num_key_value_heads=4,
    vocab_size=152064,
    rope_theta=1.0e6,
    max_position_embeddings=32768,
    rms_norm_eps=1.0e-6,
    tie_word_embeddings=False,
)
TINY = QWEN25_7B | dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, vocab_size=512)
TINY |= dict(num_attention_heads=4, num_key_value_heads=2)
LORA = dict(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear")
# Dense (not 2:4 sparse) bf16 tensor-core peaks, TFLOP/s: NVIDIA H100, H200, A100 datasheets.
PEAK_TFLOPS = {"H100 PCIe": 756.0, "H100": 989.4, "H200": 989.4, "A100": 312.0}


def build_model(arch: dict, device: str, dtype: torch.dtype, attn: str | None = None):
    """A randomly initialised (seed 0) causal LM of ``arch``, its weights made on ``device``."""
    torch.manual_seed(0)
    with torch.device(device):
        config = Qwen2Config(**arch, bos_token_id=1, eos_token_id=1, pad_token_id=0)
        return AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation=attn)


def lora_step_flops(lengths, targets, n_body, n_head, n_lora, layers, hidden) -> float:
    """Model FLOPs of one LoRA forward and backward pass over some sequences.

    Per token, the frozen body costs 2·n_body forward and 2·n_body backward (input gradients
    only: frozen weights get no weight gradient), the adapters 6·n_lora (forward, input and
    weight gradients). The output layer runs only where there is a label (``logits_to_keep``):
    4·n_head per target. Causal attention (QKᵀ and AV over half the square) costs
    2·hidden·s² per layer forward, three times that with the backward: 6·layers·hidden·s².
    Padding and recomputation (gradient checkpointing) are overhead, not model FLOPs.

    Args:
        lengths: Tokens of each sequence.
        targets: Labelled tokens of each sequence.
        n_body: Parameters of the body (all but the input embedding and output layer).
        n_head: Parameters of the output layer.
        n_lora: Trainable adapter parameters.
        layers: Decoder layers.
        hidden: Hidden size (query heads × head size).
    """
    per_token = 4 * n_body + 6 * n_lora
    attn = 6 * layers * hidden
    return float(
        sum(per_token * s + 4 * n_head * t + attn * s * s for s, t in zip(lengths, targets))
    )


def mfu(flops: float, seconds: float, peak_tflops: float) -> float:
    """Model FLOPs utilisation: achieved FLOP/s over the peak."""
    return flops / seconds / (peak_tflops * 1e12)


def sync(device: str) -> None:
    """Wait for the device's queued work (nothing to wait for on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


def matmul_tflops(device: str, dtype: torch.dtype, n: int, iters: int) -> float:
    """Measured TFLOP/s of square ``n``×``n`` matmuls (2·n³ FLOPs): best of 3 runs of ``iters``."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    rates = []
    for _ in range(4):  # the first run warms up
        sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            a @ b
        sync(device)
        rates.append(2 * n**3 * iters / (time.perf_counter() - start) / 1e12)
    return max(rates[1:])


def target(tiny: bool) -> tuple[str, torch.dtype, dict, str]:
    """Device, dtype, architecture and device name: the 7B in bf16 on the GPU, or the tiny one."""
    if tiny:
        return "cpu", torch.float32, TINY, "cpu"
    return "cuda", torch.bfloat16, QWEN25_7B, torch.cuda.get_device_name()


def table_tflops(name: str) -> float | None:
    """The datasheet peak of the GPU called ``name``; None when it is not in the table."""
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), None)


def peak_memory_gib(device: str) -> float:
    """Peak allocated GPU memory; on the CPU the process's max RSS."""
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def synthetic(n: int, args: argparse.Namespace, vocab: int) -> list[Example]:
    """``n`` random examples, prompt and reply lengths log-normal with the given means."""
    gen = torch.Generator().manual_seed(0)

    def draw(mean: float) -> int:
        z = float(torch.randn(1, generator=gen)) * args.sigma - args.sigma**2 / 2
        return max(1, round(mean * math.exp(z)))

    out = []
    for _ in range(n):
        p, r = draw(args.prompt_mean), draw(args.reply_mean)
        ids = torch.randint(2, vocab, (p + r,), generator=gen).tolist()[: args.max_length]
        out.append(Example(ids, ([IGNORE] * p + ids[p:])[: args.max_length]))
    return out


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, value in [("steps", 10), ("warmup", 3), ("batch-size", 32), ("micro-batch-size", 8)]:
        ap.add_argument(f"--{flag}", type=int, default=value)
    for flag, value in [("prompt-mean", 100.0), ("reply-mean", 150.0), ("sigma", 0.6)]:
        ap.add_argument(f"--{flag}", type=float, default=value)
    ap.add_argument("--max-length", type=int, default=1024)
    ap.add_argument("--micro-batch-tokens", type=int, help="cap on padded tokens per micro-batch")
    ap.add_argument("--attn-implementation", help="e.g. sdpa, eager, flash_attention_2")
    ap.add_argument("--gradient-checkpointing", action="store_true", default=None)
    ap.add_argument("--fused-loss", action="store_true", default=None)
    ap.add_argument("--peft-forward", action="store_true", help="PEFT's LoRA forward, not radis's")
    ap.add_argument("--tiny", action="store_true", help="a 2-layer float32 model on the CPU")
    return ap.parse_args(argv)


def train_config(args: argparse.Namespace) -> TrainConfig:
    """One epoch at the given batch sizes; the optional knobs only where a flag is given."""
    kwargs = dict(lora=LORA, epochs=1, batch_size=args.batch_size, warmup_ratio=0.0)
    kwargs |= dict(micro_batch_size=args.micro_batch_size, max_length=args.max_length)
    kwargs |= dict(dtype="float32" if args.tiny else "bfloat16", checkpoint_every=0)
    knobs = dict(
        attn_implementation=args.attn_implementation,
        gradient_checkpointing=args.gradient_checkpointing,
        fused_loss=args.fused_loss,
        micro_batch_tokens=args.micro_batch_tokens,
    )
    try:
        cfg = TrainConfig(**kwargs, **{k: v for k, v in knobs.items() if v is not None})
        check_kernels(cfg)
    except (TypeError, ValueError, RadisError) as err:
        sys.exit(f"error: radis.train.loop.TrainConfig: {err}")
    return cfg


def main() -> None:
    args = parse_args()
    expandable_segments()  # as the train stage
    cfg = train_config(args)
    if args.peft_forward:  # fit's fused LoRA layers off
        radis.train.loop.fused_lora = lambda _model: contextlib.nullcontext(0)
    device, dtype, arch, name = target(args.tiny)
    measured = matmul_tflops(device, dtype, *((384, 10) if args.tiny else (8192, 100)))
    table = table_tflops(name)
    model = build_model(arch, device, dtype, args.attn_implementation)
    n_all = sum(p.numel() for p in model.parameters())
    n_head = arch["vocab_size"] * arch["hidden_size"]  # the input embedding is as large
    from peft import get_peft_model

    model = get_peft_model(model, lora_config(LORA))
    n_lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
    examples = synthetic((args.warmup + args.steps) * cfg.batch_size, args, arch["vocab_size"])
    log = fit(model, examples, cfg, pad_id=0, on_log=lambda _: sync(device))
    lengths = [len(e.input_ids) for e in examples]
    steps = step_batches(lengths, cfg, 0)[args.warmup :]
    padded = sum(len(mb) * max(lengths[i] for i in mb) for step in steps for mb in step)
    if padded != sum(r["tokens"] for r in log[args.warmup :]):
        sys.exit("error: fit's steps differ from radis.train.loop.step_batches(lengths, cfg, 0)")
    timed = [i for step in steps for mb in step for i in mb]
    real = sum(lengths[i] for i in timed)
    targets = [sum(t != IGNORE for t in examples[i].labels[1:]) for i in timed]
    seconds = log[-1]["seconds"] - (log[args.warmup - 1]["seconds"] if args.warmup else 0.0)
    flops = lora_step_flops(
        [lengths[i] for i in timed], targets, n_all - 2 * n_head, n_head, n_lora,
        arch["num_hidden_layers"], arch["hidden_size"],
    )  # fmt: skip
    print(f"device: {name}  dtype: {cfg.dtype}  params: {n_all / 1e9:.3f} B  ", end="")
    print(f"LoRA: {n_lora / 1e6:.2f} M  forward: {'PEFT' if args.peft_forward else 'fused'}")
    print(
        f"steps timed: {args.steps} after {args.warmup} warm-up  batch: {cfg.batch_size}  "
        f"micro-batch: {cfg.micro_batch_size}  mean length: {real / len(timed):.1f}  "
        f"padding: {1 - real / padded:.1%}"
    )
    print(f"tokens/s: {real / seconds:.1f}")
    print(f"peak memory GiB: {peak_memory_gib(device):.2f}")
    if device == "cuda":  # the caching allocator freed its cache and retried: a sign of crowding
        print(f"allocator retries: {torch.cuda.memory_stats()['num_alloc_retries']}")
    print(f"matmul TFLOP/s measured: {measured:.4g}")
    print(f"peak TFLOP/s datasheet: {table or 'n/a'}")
    print(f"model TFLOP/s: {flops / seconds / 1e12:.4g}")
    of = f"the datasheet peak; {100 * mfu(flops, seconds, measured):.2f} % of" if table else "the"
    print(f"MFU: {100 * mfu(flops, seconds, table or measured):.2f} % of {of} measured matmul rate")


if __name__ == "__main__":
    main()
