"""Decode throughput of radis's HF backend on a random-weight Qwen2.5-7B-shaped model.

Usage, from the repository root (no download: model and tokenizer are built here):
    .venv/bin/python bench/gpu_generate.py [--batch-sizes 1 16 85] [--prompt-length 128]
        [--new-tokens 64] [--batch-tokens 16384] [--tiny]

Every batch is ``b`` prompts of ``--prompt-length`` random tokens, run through
``radis.generate.hf.HFBackend.generate`` (its token budget set to exactly ``b`` rows). Random
weights would stop at an early EOS: the model's generation config gets ``min_new_tokens`` equal
to ``max_new_tokens``, so every row generates exactly ``--new-tokens`` tokens (checked). Each
batch size is timed twice, with one new token (prefill) and with all; decode tokens/s is
``b·(new − 1)`` over the difference. The bandwidth bound of decoding is one read of the weights
per step (all but the input embedding, a row lookup; the KV cache is left out): measured
bandwidth / weight bytes steps/s, ``b`` tokens each. By default the batch sizes are 1, 16 and
the stage's: ``--batch-tokens // (prompt + new)``. ``--tiny``: a 2-layer float32 model on the CPU.
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_train import build_model, sync, target  # noqa: E402

from radis.generate.backend import GenerationConfig  # noqa: E402
from radis.generate.hf import HFBackend


class InMemoryBackend(HFBackend):
    """``HFBackend`` around a model already in memory (its constructor loads from a folder)."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer, self.device = model.eval(), tokenizer, model.device.type
        self.tokenizer.padding_side = "left"
        self.eos_ids, self.pad_id = [tokenizer.eos_token_id], tokenizer.pad_token_id


def word_tokenizer(vocab: int) -> PreTrainedTokenizerFast:
    """One token per whitespace-separated word ``t<id>``: id 0 pads, id 1 ends a turn."""
    words = {"<pad>": 0, "<eos>": 1} | {f"t{i}": i for i in range(2, vocab)}
    tok = Tokenizer(models.WordLevel(words, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")


def copy_bandwidth(device: str, n_bytes: int, iters: int) -> float:
    """Measured bytes/s of device-to-device copies (each reads and writes ``n_bytes``).

    The best of 3 runs of ``iters`` copies, after one run that warms up.
    """
    src = torch.empty(n_bytes, dtype=torch.uint8, device=device).random_()
    dst = torch.empty_like(src)
    rates = []
    for _ in range(4):
        sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            dst.copy_(src)
        sync(device)
        rates.append(2 * n_bytes * iters / (time.perf_counter() - start))
    return max(rates[1:])


def decode_bound(batch: int, weight_bytes: int, bandwidth: float) -> float:
    """Tokens/s if every decode step only reads the weights once at ``bandwidth`` bytes/s."""
    return batch * bandwidth / weight_bytes


def timed_generate(backend: HFBackend, prompts: list[str], new: int) -> float:
    """Seconds to generate exactly ``new`` tokens for every prompt in one batch."""
    backend.model.generation_config.min_new_tokens = new
    width = len(prompts[0].split()) + new  # every prompt is as long
    cfg = GenerationConfig(max_new_tokens=new, batch_tokens=len(prompts) * width)
    sync(backend.device)
    start = time.perf_counter()
    out = backend.generate(prompts, cfg)
    sync(backend.device)
    if any(c.completion_tokens != new or c.finish_reason != "length" for c in out):
        sys.exit(f"error: a row did not generate exactly {new} tokens")
    return time.perf_counter() - start


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-sizes", type=int, nargs="+")
    ap.add_argument("--prompt-length", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--batch-tokens", type=int, default=16384, help="the stage's batch_tokens")
    ap.add_argument("--tiny", action="store_true", help="a 2-layer float32 model on the CPU")
    return ap.parse_args(argv)


def main() -> None:
    args = parse_args()
    device, dtype, arch, name = target(args.tiny)
    stage_batch = args.batch_tokens // (args.prompt_length + args.new_tokens)
    sizes = args.batch_sizes or sorted({1, 16, stage_batch})
    bandwidth = copy_bandwidth(device, *((2**26, 5) if args.tiny else (2**31, 20)))
    model = build_model(arch, device, dtype)
    embed = model.get_input_embeddings().weight
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    weight_bytes -= embed.numel() * embed.element_size()
    backend = InMemoryBackend(model, word_tokenizer(arch["vocab_size"]))
    gen = torch.Generator().manual_seed(0)
    print(
        f"device: {name}  dtype: {str(dtype).removeprefix('torch.')}  "
        f"prompt: {args.prompt_length}  new tokens: {args.new_tokens} (fixed: min_new_tokens)"
    )
    print(f"weights GB read per step: {weight_bytes / 1e9:.4f}")
    print(f"copy bandwidth GB/s measured: {bandwidth / 1e9:.1f}")
    print(f"stage batch (batch_tokens {args.batch_tokens}): {stage_batch}")
    for i, b in enumerate(sizes):
        ids = torch.randint(2, arch["vocab_size"], (b, args.prompt_length), generator=gen)
        prompts = [" ".join(f"t{t}" for t in row) for row in ids.tolist()]
        if i == 0:
            timed_generate(backend, prompts, 2)  # warm-up: kernels, allocator
        prefill = timed_generate(backend, prompts, 1)
        full = timed_generate(backend, prompts, args.new_tokens)
        decode = b * (args.new_tokens - 1) / (full - prefill)
        bound = decode_bound(b, weight_bytes, bandwidth)
        print(
            f"batch {b}: new tokens/s: {b * args.new_tokens / full:.1f}  "
            f"decode tokens/s: {decode:.1f}  bound tokens/s: {bound:.1f}  "
            f"of bound: {decode / bound:.1%}  prefill s: {prefill:.3f}"
        )


if __name__ == "__main__":
    main()
