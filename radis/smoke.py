"""A first check of a new (GPU) machine: each part of the pipeline, run once with its knobs.

``python -m radis.smoke [--params configs/paper.yaml] [--tiny]`` builds a tiny random chat model
in a temporary folder (the toy backbone's builders) and runs, with the params file's generation
and training settings, the library code of the stages:

- ``model``: the tokenizer and the random model (Qwen2 layout, head size 64 as a 7B's 128 is
  served by the same kernels; a few MB), and toy translation rows;
- ``rationales``: one batch of rationales through ``base.backend`` with ``base.dtype`` and
  ``base.vllm`` (``data_parallel_size`` included: eight prompts per engine, in two shards each),
  as the rationales stage makes them (:func:`radis.data.rationales.generate_rationales`);
- ``train``: three optimizer steps of LoRA fine-tuning on RaDis rows built from them, with
  ``train``'s knobs (dtype, attention kernel, gradient checkpointing, fused loss, micro-batch
  caps, ``distributed`` under ``accelerate launch``, a resumable checkpoint at step 2);
  ``batch_size`` becomes two micro-batches and ``epochs`` one;
- ``evaluate``: one batch of test translations with the trained adapter, loaded as
  ``base.serve`` says (:mod:`radis.generate.serve`: a LoRA request on vLLM or merged in memory by
  ``hf``, or a merged copy), scored as the evaluate stage scores them.

Decoding is cut to :data:`NEW_TOKENS` new tokens. Each part runs in a process of its own, as a
stage does, so a crash or a GPU left full by one part cannot hide another's result. The parts'
own output goes to stderr; stdout gets one line per part, ``<part>: ok (...)`` or
``<part>: FAIL: <reason>``, and the exit status is 1 if any part failed. ``--tiny`` forces
CPU-safe settings (``hf`` backend, float32, no fused loss or flash attention, one training
process) and runs the same code: the tests run it.
"""

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import typer

from radis.core.config import load_params, parse, section
from radis.core.io import RadisError

PARTS = ("model", "rationales", "train", "evaluate")
#: New tokens per generated reply: enough to exercise decoding, cheap on any machine.
NEW_TOKENS = 16
#: Prompts per generation engine (two shards of :data:`SHARD_ROWS`).
PROMPTS_PER_ENGINE = 8
SHARD_ROWS = 4
TRAIN_STEPS = 3
#: The random model: Qwen2 with 4 heads of 64 (rotary positions cost nothing, so the context is
#: set to cover ``base.vllm.max_model_len``).
MODEL = dict(
    hidden_size=256,
    intermediate_size=512,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    tie_word_embeddings=True,
)

app = typer.Typer(add_completion=False)


def smoke_base(params: dict, where: str, tiny: bool):
    """Params ``base`` for the smoke run: small shards, and (``tiny``) the CPU-safe backend."""
    from radis.core.params import BaseConfig

    b = parse(BaseConfig, section(params, "base", where), f"{where}: base")
    if tiny:
        b = dataclasses.replace(b, backend="hf", dtype="float32")
    return dataclasses.replace(b, shard_rows=SHARD_ROWS)


def short(gen):
    """A generation config cut to :data:`NEW_TOKENS` new tokens."""
    return dataclasses.replace(gen, max_new_tokens=min(gen.max_new_tokens, NEW_TOKENS))


def smoke_train(params: dict, where: str, tiny: bool):
    """Params ``train`` for three steps of two micro-batches (``tiny``: CPU-safe kernels)."""
    from radis.train.loop import method_config

    seed = params.get("base", {}).get("seed", 0)
    cfg = method_config(section(params, "train", where), {}, "smoke", seed)
    d = cfg.distributed
    every = 0 if d.strategy == "fsdp" and d.num_processes > 1 else 2
    cfg = dataclasses.replace(
        cfg, epochs=1, batch_size=2 * cfg.micro_batch_size, checkpoint_every=every
    )
    if tiny:
        single = dataclasses.replace(d, num_processes=1, strategy="ddp")
        attn = "sdpa" if cfg.attn_implementation == "flash_attention_2" else cfg.attn_implementation
        cfg = dataclasses.replace(
            cfg, dtype="float32", fused_loss=False, attn_implementation=attn, distributed=single
        )
    return cfg


def part_model(work: Path, params: dict, where: str, tiny: bool) -> str:
    """Build the tokenizer, the random model and the toy translation rows."""
    import pandas as pd

    from radis.core.io import write_table
    from radis.core.schemas import TRANSLATION
    from radis.toy.backbone import build_model, train_tokenizer
    from radis.toy.world import WorldConfig, build_world

    seed = params.get("base", {}).get("seed", 0)
    world = build_world(
        WorldConfig(
            train_pairs=16,
            valid_pairs=1,
            test_pairs=8,
            backbone_pairs=8,
            backbone_items={"math": 8, "instruct": 8, "safety": 8},
            eval_items=2,
        ),
        seed,
    )
    texts = [c["prompt"] + "\n" + c["completion"] for c in world["chat"]]
    tokenizer = train_tokenizer(texts + [r["source"] for r in world["parallel"]], vocab_size=512)
    context = params.get("base", {}).get("vllm", {}).get("max_model_len", 4096)
    context = max(4096, context if isinstance(context, int) else 0)
    model = build_model(tokenizer, MODEL | {"max_position_embeddings": context}, seed)
    model.save_pretrained(work / "model")
    tokenizer.save_pretrained(work / "model")
    write_table(pd.DataFrame(world["parallel"]), work / "translation.parquet", TRANSLATION)
    size = sum(p.numel() for p in model.parameters()) / 1e6
    return f"random Qwen2, {size:.1f}M parameters, {len(tokenizer)} tokens"


def _rows(work: Path, split: str, n: int):
    """``n`` translation rows of ``split`` (repeated if it has fewer)."""
    from radis.core.io import read_table
    from radis.core.schemas import TRANSLATION

    rows = read_table(work / "translation.parquet", TRANSLATION)
    rows = rows[rows.split == split].reset_index(drop=True)
    return rows.iloc[[i % len(rows) for i in range(n)]].reset_index(drop=True)


def _free(backend) -> None:
    """Stop a backend's engines and free the accelerator for the next part."""
    import gc

    import torch

    backend.clean()
    backend.inner = None
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def part_rationales(work: Path, params: dict, where: str, tiny: bool) -> str:
    """One batch of rationales through the configured backend."""
    from radis.core.io import write_table
    from radis.core.schemas import RATIONALE
    from radis.data.rationales import RationaleConfig, generate_rationales
    from radis.generate.serve import open_backend

    b = smoke_base(params, where, tiny)
    cfg = parse(RationaleConfig, section(params, "rationales", where), f"{where}: rationales")
    cfg = dataclasses.replace(cfg, generation=short(cfg.generation))
    n = b.vllm.data_parallel_size
    rows = _rows(work, "train", PROMPTS_PER_ENGINE * n)
    backend = open_backend(b, str(work / "model"), "smoke-rationales")
    table = generate_rationales(rows, backend, cfg, b.seed)
    _free(backend)
    write_table(table, work / "rationales.parquet", RATIONALE)
    tokens = int(table.rationale_tokens.sum())
    return (
        f"{b.backend}, {b.dtype}, {len(table)} prompts on {n} engine(s) "
        f"x {b.vllm.tensor_parallel_size if b.backend == 'vllm' else 1} GPU(s), {tokens} tokens"
    )


def part_train(work: Path, params: dict, where: str, tiny: bool, params_path: Path) -> str:
    """Three optimizer steps on RaDis rows (plain references if no rationales were made)."""
    import pandas as pd

    from radis.core.io import read_table, write_table
    from radis.core.schemas import RATIONALE, TRAIN_SET
    from radis.data.build import MethodConfig, radis, vanilla
    from radis.train.distributed import launch

    cfg = smoke_train(params, where, tiny)
    made = work / "rationales.parquet"
    if made.is_file():
        rows = radis(read_table(made, RATIONALE), MethodConfig(recipe="radis"), cfg.seed)
    else:
        rows = vanilla(_rows(work, "train", 16), cfg.seed)
    need = TRAIN_STEPS * cfg.batch_size
    rows = pd.concat([rows] * -(-need // len(rows)), ignore_index=True).head(need)
    write_table(rows, work / "train.parquet", TRAIN_SET)
    args = ["--part", "train-run", "--params", str(params_path), "--work", str(work)]
    if not launch(cfg.distributed, "radis.smoke", args + (["--tiny"] if tiny else [])):
        run_training(work, cfg)
    log = json.loads((work / "train-log.json").read_text())
    losses = f"loss {log[0]['loss']:.3f} -> {log[-1]['loss']:.3f}"
    knobs = [cfg.dtype, cfg.attn_implementation, f"{cfg.micro_batch_size} rows a pass"]
    knobs += ["gradient checkpointing"] * cfg.gradient_checkpointing + [
        "fused loss"
    ] * cfg.fused_loss
    d = cfg.distributed
    knobs += [f"{d.num_processes} processes ({d.strategy})"] * (d.num_processes > 1)
    return f"{len(log)} steps, {losses}, {', '.join(knobs)}"


def run_training(work: Path, cfg) -> None:
    """Train on the rows the train part wrote (in every process under ``accelerate launch``)."""
    from radis.core.io import read_table
    from radis.core.schemas import TRAIN_SET
    from radis.train.distributed import is_main
    from radis.train.loop import expandable_segments
    from radis.train.lora import train_lora

    expandable_segments()  # as the train stage: before the first CUDA allocation
    rows = read_table(work / "train.parquet", TRAIN_SET)
    checkpoint = work / "checkpoint" / "checkpoint.pt"
    log = train_lora(work / "model", rows, cfg, work / "adapter", checkpoint=checkpoint)
    if len(log) != TRAIN_STEPS:
        raise RadisError(f"trained {len(log)} steps, expected {TRAIN_STEPS}")
    if is_main():
        (work / "train-log.json").write_text(json.dumps(log))


def part_evaluate(work: Path, params: dict, where: str, tiny: bool) -> str:
    """One batch of test translations, with the trained adapter when there is one."""
    from radis.evaluate.translation import EvaluateConfig, scores, translate
    from radis.generate.serve import open_backend, served

    b = smoke_base(params, where, tiny)
    cfg = parse(EvaluateConfig, section(params, "evaluate", where), f"{where}: evaluate")
    cfg = dataclasses.replace(cfg, generation=short(cfg.generation))
    adapter = work / "adapter"
    trained = str(adapter) if (adapter / "adapter_config.json").is_file() else ""
    test = _rows(work, "test", PROMPTS_PER_ENGINE * b.vllm.data_parallel_size)
    what = served(b, "smoke", str(work / "model"), trained, work / "merged")  # base.serve
    backend = open_backend(b, what.model, "smoke-evaluate", what.adapter)
    preds = translate(backend, test, cfg, b.seed)
    _free(backend)
    chrf = scores(preds)["mt.chrf"]
    how = f"with the trained adapter ({b.serve})" if trained else "no adapter (train failed)"
    return f"{b.backend}, {len(preds)} translations {how}, chrF {chrf}"


def run_part(part: str, work: Path, params_path: Path, tiny: bool) -> str:
    """Run one part here; its status line (``ok (...)`` or ``FAIL: ...``)."""
    threads = os.environ.get("RADIS_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    try:
        params = load_params(params_path)
        where = str(params_path)
        if part == "train-run":
            run_training(work, smoke_train(params, where, tiny))
            return "ok"
        if part != "model" and not (work / "model" / "config.json").is_file():
            return "FAIL: no model (the model part failed)"
        if part == "train":
            detail = part_train(work, params, where, tiny, params_path)
        else:
            run = {"model": part_model, "rationales": part_rationales, "evaluate": part_evaluate}
            detail = run[part](work, params, where, tiny)
        return f"ok ({detail})"
    except RadisError as err:
        return f"FAIL: {err}"
    except Exception as err:  # a smoke check reports every failure, whatever it is
        traceback.print_exc()
        first = next((line for line in str(err).splitlines() if line.strip()), "")
        return f"FAIL: {type(err).__name__}: {first}" if first else f"FAIL: {type(err).__name__}"


def spawn_part(part: str, work: Path, params_path: Path, tiny: bool) -> str:
    """Run one part in a process of its own (working folder ``work``); its status line."""
    status = work / f"{part}.status"
    status.unlink(missing_ok=True)
    root = str(Path(__file__).resolve().parents[1])
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    }
    cmd = [sys.executable, "-m", "radis.smoke", "--part", part, "--params", str(params_path)]
    cmd += ["--work", str(work)] + ["--tiny"] * tiny
    start = time.perf_counter()
    code = subprocess.run(cmd, cwd=work, env=env, stdout=sys.stderr).returncode
    seconds = time.perf_counter() - start
    if not status.is_file():
        return f"FAIL: its process exited with code {code} before reporting (output above)"
    line = status.read_text().strip()
    return line[:-1] + f", {seconds:.0f} s)" if line.startswith("ok (") else line


@app.command()
def main(
    params: str = typer.Option("configs/paper.yaml", help="Params file to take the knobs from."),
    tiny: bool = typer.Option(False, help="CPU-safe settings (hf, float32, no fused loss)."),
    work: str = typer.Option("", help="Working folder, kept (default: a temporary one)."),
    part: str = typer.Option("", hidden=True, help="Run this part only (internal)."),
) -> None:
    """Check that generation, training and evaluation run here; one line per part."""
    params_path = Path(params).absolute()
    if part:
        line = run_part(part, Path(work).absolute(), params_path, tiny)
        (Path(work) / f"{part}.status").write_text(line + "\n")
        raise typer.Exit(0 if line.startswith("ok") else 1)
    with contextlib.ExitStack() as stack:
        folder = Path(work) if work else None
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="radis-smoke-")))
        folder = folder.absolute()
        folder.mkdir(parents=True, exist_ok=True)
        if any(folder.iterdir()):
            typer.echo(f"error: --work {work}: not empty (give a new or empty folder)", err=True)
            raise typer.Exit(1)
        failed = False
        for name in PARTS:
            line = spawn_part(name, folder, params_path, tiny)
            print(f"{name}: {line}", flush=True)
            failed |= not line.startswith("ok")
    raise typer.Exit(1 if failed else 0)


if __name__ == "__main__":
    app()
