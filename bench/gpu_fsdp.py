"""FSDP against the plain path: ``radis.train.loop.fit`` in this process, then under FSDP.

Usage, on a GPU box from the repository root:
    python bench/gpu_fsdp.py [--processes 1] [--dtype bfloat16] [--fsdp-config '{}']

Builds a small random-weight Qwen2 (4 layers, hidden 256) on the GPU with LoRA r=16 on every
linear layer, trains 8 optimizer steps on seeded synthetic rows in this process, then relaunches
itself under ``accelerate launch`` with the train stage's FSDP settings
(:func:`radis.train.distributed.accelerate_config`: ``FSDP_DEFAULTS`` under ``--fsdp-config``) and
trains again from the same initialisation. Prints both loss curves, their largest difference
and the largest relative difference of the adapter weights (FSDP's gathered from the shards).
One process shards nothing but runs FSDP's wrapping, mixed-dtype all-gathers and state-dict
gathering; ``--processes N`` runs N GPUs.
"""

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_train import LORA, build_model  # noqa: E402

from radis.train.distributed import (  # noqa: E402
    DistributedConfig,
    Replicas,
    accelerate_launch,
    local_device,
)
from radis.train.loop import IGNORE, Example, TrainConfig, fit  # noqa: E402
from radis.train.lora import lora_config  # noqa: E402

ARCH = dict(hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4)
ARCH |= dict(num_key_value_heads=2, vocab_size=1024, tie_word_embeddings=False)


def examples(n: int = 64) -> list[Example]:
    """Seeded random rows: 10–40 prompt tokens masked, 10–40 reply tokens learned."""
    gen = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        p, r = torch.randint(10, 41, (2,), generator=gen).tolist()
        ids = torch.randint(2, ARCH["vocab_size"], (p + r,), generator=gen).tolist()
        out.append(Example(ids, [IGNORE] * p + ids[p:]))
    return out


def train(dtype: str, out: Path) -> None:
    """Train once (FSDP when launched) and save the losses and adapter weights to ``out``."""
    from peft import get_peft_model

    torch.manual_seed(0)  # the same LoRA initialisation in every run
    model = build_model(ARCH, local_device(), getattr(torch, dtype))
    model = get_peft_model(model, lora_config(LORA))
    cfg = TrainConfig(lora=LORA, learning_rate=1.0e-3, warmup_ratio=0.0, epochs=1, batch_size=8)
    cfg = dataclasses.replace(cfg, micro_batch_size=4, checkpoint_every=0, dtype=dtype)
    replicas = Replicas()
    log = fit(model, examples(), cfg, pad_id=0, replicas=replicas)
    state = replicas.full_state_dict()
    state = {k.removeprefix("lm."): v for k, v in (state or model.state_dict()).items()}
    if replicas.is_main:
        lora = {k: v.float().cpu() for k, v in state.items() if "lora_" in k}
        losses = [r["loss"] for r in log]
        torch.save({"losses": losses, "lora": lora, "sharded": replicas.sharded}, out)


def launch_fsdp(args: argparse.Namespace, out: Path) -> None:
    """Run this script's training under ``accelerate launch`` with FSDP."""
    dist = DistributedConfig(args.processes, "fsdp", fsdp_config=json.loads(args.fsdp_config))
    if accelerate_launch(dist, [__file__, "--dtype", args.dtype, "--out", str(out)]):
        sys.exit("error: the FSDP run failed (its output is above)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16"])
    ap.add_argument("--fsdp-config", default="{}", help="accelerate fsdp_config keys, as JSON")
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)  # set for the launched run
    args = ap.parse_args()
    if args.out:
        return train(args.dtype, args.out)
    with tempfile.TemporaryDirectory() as tmp:
        plain, fsdp = Path(tmp) / "plain.pt", Path(tmp) / "fsdp.pt"
        train(args.dtype, plain)
        launch_fsdp(args, fsdp)
        a, b = torch.load(plain), torch.load(fsdp)
    print(f"dtype: {args.dtype}  FSDP processes: {args.processes}  sharded: {b['sharded']}")
    print(f"losses plain: {a['losses']}")
    print(f"losses FSDP:  {b['losses']}")
    gap = max(abs(x - y) for x, y in zip(a["losses"], b["losses"]))
    print(f"largest loss difference: {gap:.2e}")
    if sorted(a["lora"]) != sorted(b["lora"]):
        sys.exit("error: the adapters' tensor names differ")
    rel = max(float((a["lora"][k] - b["lora"][k]).norm() / a["lora"][k].norm()) for k in a["lora"])
    print(f"adapter tensors: {len(a['lora'])}  largest relative difference: {rel:.2e}")


if __name__ == "__main__":
    main()
