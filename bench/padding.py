"""Padding share of processed tokens under radis's batching (``radis.train.loop.step_batches``).

Usage, from the repository root (no model is loaded; it runs in seconds):
    .venv/bin/python bench/padding.py [--length-window 64] [--samples 113000]

Two length distributions, one epoch each, every micro-batch padded to its longest row:

(a) the toy default: the token lengths of data/build/vanilla.parquet and data/build/radis.parquet
    (or of the toy world's chats before the pipeline has built them) under the backbone's
    tokenizer (or one trained on the toy chats before the backbone exists), ``train`` params;
(b) paper-like: ``--samples`` examples (ALMA's ~113k human-written pairs), with the paper's
    ``batch_size`` 128, ``micro_batch_size`` 8 and ``max_length`` 1024, and ``length_window``
    from params (or ``--length-window``). Lengths in tokens, all drawn from one seeded generator:
    reference r ~ LogNormal(median 40, sigma 0.6) (the end-of-turn tokens included); source
    r * LogNormal(median 1, sigma 0.2) (a translation's length follows its source's); prompt =
    source + an instruction and chat template of 55-75 tokens (uniform), so a median near 100;
    rationale ~ LogNormal(median 250, sigma 0.5) cut at 512 (``rationales`` max_new_tokens).
    Vanilla-FT is prompt + reference, RaDis prompt + reference + rationale, both cut at
    ``max_length``.
"""

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import read_train_set  # noqa: E402

from radis.core.params import base, params  # noqa: E402
from radis.train.loop import TrainConfig, step_batches, token_counts, tokenize_chat  # noqa: E402


def padding_share(lengths, cfg: TrainConfig, epoch: int = 0) -> float:
    """Padding share of the tokens processed in one epoch of :func:`step_batches`."""
    real = processed = 0
    for step in step_batches(lengths, cfg, epoch):
        r, p = token_counts(lengths, step)
        real, processed = real + r, processed + p
    return 1 - real / processed


def paper_lengths(n: int, seed: int, max_length: int) -> dict[str, list[int]]:
    """Token lengths of ``n`` Vanilla-FT and RaDis examples (the module docstring's model)."""
    rng = np.random.default_rng(seed)
    ref = np.maximum(1, np.round(rng.lognormal(np.log(40), 0.6, n)))
    source = np.maximum(1, np.round(ref * rng.lognormal(0.0, 0.2, n)))
    prompt = source + rng.integers(55, 76, n)
    rationale = np.minimum(512, np.round(rng.lognormal(np.log(250), 0.5, n)))
    vanilla = np.minimum(max_length, prompt + ref)
    radis = np.minimum(max_length, prompt + ref + rationale)
    return {"vanilla": vanilla.astype(int).tolist(), "radis": radis.astype(int).tolist()}


def toy_lengths(cfg: TrainConfig) -> tuple[str, dict[str, list[int]]]:
    """Where the toy lengths come from, and the lengths of each method's training set."""
    import pandas as pd
    from transformers import AutoTokenizer

    from radis.toy.backbone import train_tokenizer
    from radis.toy.world import WorldConfig, build_world

    sets = {m: Path(f"data/build/{m}.parquet") for m in ("vanilla", "radis")}
    if all(p.is_file() for p in sets.values()):
        rows = {m: read_train_set(p) for m, p in sets.items()}
        where = "data/build/{vanilla,radis}.parquet"
    else:
        chat = build_world(WorldConfig(), seed=0)["chat"]
        rows = {"toy chats": pd.DataFrame(chat).assign(masked_suffix="")}
        where = "the toy world's chats"
    model_dir = Path(base().model_dir)
    if model_dir.is_dir():
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        where += ", the backbone's tokenizer"
    else:
        chat = build_world(WorldConfig(), seed=0)["chat"]
        texts = [c["prompt"] + "\n" + c["completion"] for c in chat]
        tokenizer = train_tokenizer(texts, params("toy.backbone.vocab_size"))
        where += ", a tokenizer trained on the toy chats (no backbone yet)"
    lengths = {
        name: [
            len(tokenize_chat(tokenizer, p, c, cfg.max_length, s).input_ids)
            for p, c, s in zip(df.prompt, df.completion, df.masked_suffix)
        ]
        for name, df in rows.items()
    }
    return where, lengths


def report(title: str, cfg: TrainConfig, lengths: dict[str, list[int]]) -> None:
    """Print the padding share of each set at ``cfg.length_window`` and, for scale, at 1."""
    print(
        f"{title}: batch {cfg.batch_size}, micro-batch {cfg.micro_batch_size}, "
        f"length_window {cfg.length_window}"
    )
    unsorted = dataclasses.replace(cfg, length_window=1)
    for name, lens in lengths.items():
        print(
            f"  {name:10s} {len(lens):7d} samples, mean {np.mean(lens):6.1f} tokens: padding "
            f"{padding_share(lens, cfg):6.2%} of processed tokens "
            f"(length_window 1: {padding_share(lens, unsorted):6.2%})"
        )


def main() -> None:
    train = params("train", TrainConfig, seed=base().seed)
    ap = argparse.ArgumentParser()
    ap.add_argument("--length-window", type=int, default=train.length_window)
    ap.add_argument("--samples", type=int, default=113_000)
    args = ap.parse_args()
    where, lengths = toy_lengths(train)
    report(f"toy default ({where})", train, lengths)
    paper = TrainConfig(
        batch_size=128,
        micro_batch_size=8,
        max_length=1024,
        length_window=args.length_window,
        seed=train.seed,
    )
    report("paper-like (synthetic, see docstring)", paper, paper_lengths(args.samples, 0, 1024))


if __name__ == "__main__":
    main()
