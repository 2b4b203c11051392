"""What each way of serving a method's model costs (params ``base.serve``): disk and suite time.

Usage, from the repository root:
    .venv/bin/python bench/serve.py [--model-dir data/models/backbone] [--adapter data/models/radis]
        [--data data/fetch] [--threads 2] [--max-new-tokens N] [--rounds 3]

With the toy pipeline's outputs at those paths (``dvc repro train@radis fetch``) it measures
them; where one is missing it builds, in a temporary folder, the toy world's test data, a
tokenizer and a random-weight model of the toy backbone's shape (params ``toy``), and a random
LoRA adapter of params ``train.lora`` (its B matrices not zero).

Prints:
- disk: the backbone, the adapter and the merged copy (``base.serve: merged``), their parameter
  counts, and the same extrapolated to Qwen2.5-7B's shape (the merged copy in bf16, the adapter at
  the bytes a parameter measured here);
- time: one ``evaluate`` suite (every test sentence and general item, params ``evaluate``) on the
  CPU per choice, its loading (and merging) apart from its generation: ``adapter`` (the backbone
  plus the adapter, merged in memory), ``merged`` making its copy, ``merged`` reusing it, each
  ``--rounds`` times, interleaved; and whether every run gave the same predictions.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import pandas as pd
import torch
from peft import get_peft_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_train import QWEN25_7B, build_model  # noqa: E402

from radis.core.io import read_table  # noqa: E402
from radis.core.params import params  # noqa: E402
from radis.core.schemas import GENERAL, TRANSLATION  # noqa: E402
from radis.evaluate.translation import EvaluateConfig, answer_general, translate  # noqa: E402
from radis.generate.load import load_backend  # noqa: E402
from radis.generate.serve import merged_copy  # noqa: E402
from radis.toy.backbone import build_model as build_toy  # noqa: E402
from radis.toy.backbone import train_tokenizer  # noqa: E402
from radis.toy.world import WorldConfig, build_world  # noqa: E402
from radis.train.loop import lora_config  # noqa: E402
from radis.train.lora import sort_target_modules  # noqa: E402


def folder_bytes(path: Path) -> int:
    """Bytes of every file under ``path``."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def lora_parameters(module, r: int, head=None) -> int:
    """Parameters of a rank-``r`` adapter on every linear layer of ``module`` but ``head``."""
    linear = [m for m in module.modules() if isinstance(m, torch.nn.Linear) and m is not head]
    return sum(r * (m.in_features + m.out_features) for m in linear)


def toy_inputs(tmp: Path) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    """Random-weight toy-shaped backbone, a random adapter, and the toy world's eval data."""
    world = build_world(WorldConfig(**params("toy.world")), seed=0)
    toy = params("toy.backbone")
    texts = [c["prompt"] + "\n" + c["completion"] for c in world["chat"]]
    tokenizer = train_tokenizer(texts, vocab_size=toy["vocab_size"])
    model = build_toy(tokenizer, toy["model"], seed=0)
    model.save_pretrained(tmp / "backbone")
    tokenizer.save_pretrained(tmp / "backbone")
    torch.manual_seed(0)
    lora = lora_config(params("train.lora") | {"init_lora_weights": False})
    get_peft_model(model, lora).save_pretrained(tmp / "adapter")
    sort_target_modules(tmp / "adapter" / "adapter_config.json")
    test = pd.DataFrame(world["parallel"])
    return tmp / "backbone", tmp / "adapter", test, pd.DataFrame(world["general"])


def suite(model: str, adapter: str, test, general, cfg, prepare=None):
    """Seconds to load (after ``prepare``, e.g. merging) and to generate one evaluate suite."""
    start = time.perf_counter()
    if prepare:
        model, adapter = prepare(), ""
    backend = load_backend("hf", model, "float32", adapter or None)
    loaded = time.perf_counter()
    preds = pd.concat([translate(backend, test, cfg, 0), answer_general(backend, general, cfg, 0)])
    return loaded - start, time.perf_counter() - loaded, preds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", type=Path, default=Path("data/models/backbone"))
    ap.add_argument("--adapter", type=Path, default=Path("data/models/radis"))
    ap.add_argument("--data", type=Path, default=Path("data/fetch"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=0, help="0: params evaluate's")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each choice")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = params("evaluate", EvaluateConfig)
    if args.max_new_tokens:
        cfg.generation.max_new_tokens = args.max_new_tokens
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = (args.model_dir, args.adapter, args.data / "translation.parquet")
        if all(p.exists() for p in paths):
            model, adapter = args.model_dir, args.adapter
            test = read_table(args.data / "translation.parquet", TRANSLATION)
            general = read_table(args.data / "general.parquet", GENERAL, allow_empty=True)
            print(f"pipeline outputs: {model}, {adapter}, {args.data}")
        else:
            model, adapter, test, general = toy_inputs(tmp)
            print("random-weight toy-shaped backbone and adapter (no pipeline outputs found)")
        test = test[test.split == "test"].reset_index(drop=True)
        n_new = cfg.generation.max_new_tokens
        print(f"suite: {len(test)} sentences + {len(general)} general items, {n_new} new tokens")
        model, adapter = str(model), str(adapter)

        work = tmp / "merged"
        make = lambda: merged_copy(model, adapter, "float32", work)  # noqa: E731
        runs = {"adapter": [], "merged, merging": [], "merged, reusing": []}
        for _ in range(args.rounds):  # interleaved: a busy machine slows every choice alike
            shutil.rmtree(work, ignore_errors=True)
            runs["adapter"].append(suite(model, adapter, test, general, cfg))
            runs["merged, merging"].append(suite(model, adapter, test, general, cfg, make))
            runs["merged, reusing"].append(suite(model, adapter, test, general, cfg, make))
        print(f"\none evaluate suite on the CPU, fastest of {args.rounds} (median in brackets):")
        for name, times in runs.items():
            load, gen = ([t[i] for t in times] for i in (0, 1))
            print(
                f"  {name:<16} load {min(load):5.2f} s ({median(load):5.2f})  "
                f"generate {min(gen):6.1f} s ({median(gen):6.1f})"
            )
        preds = [t[2].reset_index(drop=True) for times in runs.values() for t in times]
        same = all(p.equals(preds[0]) for p in preds[1:])
        print(f"  identical predictions in every run: {same}")

        disk(model, adapter, next(work.iterdir()))


def disk(model: str, adapter: str, merged: Path) -> None:
    """Print the folders' sizes and parameter counts, and a 7B's extrapolated from them."""
    toy = load_backend("hf", model).model
    r = int(params("train.lora")["r"])
    sizes = {"backbone": folder_bytes(model), "adapter": folder_bytes(adapter)}
    sizes["merged"] = folder_bytes(merged)
    toy_lora = lora_parameters(toy, r, toy.get_output_embeddings())
    per_param = (Path(adapter) / "adapter_model.safetensors").stat().st_size / toy_lora
    print("\ndisk (toy):")
    print(f"  backbone {sizes['backbone'] / 1e6:8.2f} MB  ({toy.num_parameters():,} parameters)")
    size = sizes["adapter"] / 1e6
    print(f"  adapter  {size:8.2f} MB  ({toy_lora:,} at r={r}, {per_param:.2f} bytes each)")
    print(f"  merged   {sizes['merged'] / 1e6:8.2f} MB  (float32)")
    one_layer = build_model(dict(QWEN25_7B, num_hidden_layers=1), "meta", torch.bfloat16)
    layers, block = QWEN25_7B["num_hidden_layers"], one_layer.model.layers[0]
    per_layer = sum(p.numel() for p in block.parameters())
    total = one_layer.num_parameters() + (layers - 1) * per_layer
    lora = layers * lora_parameters(block, r)
    print("disk (Qwen2.5-7B shape, from parameter counts):")
    print(f"  merged copy {total * 2 / 1e9:6.2f} GB  ({total / 1e9:.2f} B parameters in bf16)")
    print(
        f"  adapter     {lora * per_param / 1e6:6.1f} MB  ({lora / 1e6:.1f} M parameters at r={r})"
    )


if __name__ == "__main__":
    main()
