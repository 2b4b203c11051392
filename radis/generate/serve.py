"""What a stage loads for a model name: the backbone, or a method's training on top of it.

The ``train`` stage writes ``data/models/<method>``: a LoRA adapter (``train.finetuning: lora``)
or a whole model (``full``). Params ``base.serve`` say how an adapter reaches the backends:

- ``adapter``: the backbone plus the adapter, nothing written. The HF backend and lm-eval merge
  it into the weights in memory as they load (``merge_and_unload``); vLLM applies it to every
  request (``LoRARequest``), which decodes slower than merged weights.
- ``merged``: the adapter merged into the backbone on the CPU in ``base.dtype``, saved under
  :data:`MERGED` (outside DVC's cache) and loaded like any model, so vLLM decodes at full speed.
  The folder keeps the ``base.merged_copies`` most recently used merged models, reused by every
  later stage of the same method: each costs a model's disk, and fewer copies than methods cost
  a merge per stage (DVC runs each suite for every method in turn).

Both give the same weights: the merged copy is made by the same calls, on the CPU, as the HF
backend's in-memory merge (tested on a tiny model: the same weights bit for bit, and the same
predictions and scores from the ``evaluate`` stage).
"""

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from radis.core.io import RadisError, atomic_path
from radis.generate.load import load_backend
from radis.generate.parallel import open_parallel
from radis.generate.shards import ShardedBackend, model_fingerprint

#: Where the ``train`` stage writes each method's adapter (or whole model).
MODELS = Path("data/models")
#: Where ``base.serve: merged`` keeps its merged models.
MERGED = Path("data/.work/merged")


@dataclass(frozen=True)
class Served:
    """What a backend loads: a model folder (or hub id), and a LoRA adapter folder or ``""``."""

    model: str
    adapter: str = ""


def is_adapter(folder: str | Path) -> bool:
    """Whether ``folder`` holds a PEFT adapter (else a whole model)."""
    return (Path(folder) / "adapter_config.json").is_file()


def trained(b, name: str, models: Path = MODELS) -> Served:
    """Backbone and adapter of model ``name``, as the pipeline made them.

    ``backbone`` is the backbone alone; a method is the backbone plus its adapter, or, trained
    with ``finetuning: full``, its own whole model.

    Raises:
        RadisError: If the method's folder is missing.
    """
    if name == "backbone":
        return Served(b.model_dir)
    folder = models / name
    if not folder.is_dir():
        raise RadisError(f"{folder}: model directory not found (run the train stage)")
    return Served(b.model_dir, str(folder)) if is_adapter(folder) else Served(str(folder))


def served(b, name: str, model: str = "", adapter: str = "", work: Path = MERGED) -> Served:
    """What the backends load for model ``name`` under params ``base.serve``.

    Args:
        b: The ``base`` params (:class:`radis.core.params.BaseConfig`).
        name: ``backbone`` or a method (checked by the caller).
        model: A model folder or hub id to load instead of ``name``'s (the stages' ``--model``).
        adapter: A LoRA adapter folder to apply to ``model`` (the stages' ``--adapter``).
        work: Where ``merged`` keeps its merged models.
    """
    what = Served(model or b.model_dir, adapter) if model or adapter else trained(b, name)
    if what.adapter and b.serve == "merged":
        copy = merged_copy(what.model, what.adapter, b.dtype, work, b.merged_copies)
        return Served(str(copy))
    return what


def merged_copy(model: str, adapter: str, dtype: str, work: Path = MERGED, keep: int = 1) -> Path:
    """The merged model of ``adapter`` on ``model`` in ``dtype``, made once under ``work``.

    The folder is named by a hash of both folders' fingerprints and the dtype, so a retrained
    adapter or another backbone gets a fresh merge. ``work`` keeps the ``keep`` most recently
    used merged models: older ones are removed before a new one is written.
    """
    key = json.dumps([model_fingerprint(model), model_fingerprint(adapter), dtype])
    out = Path(work) / hashlib.sha256(key.encode()).hexdigest()[:16]
    if (out / "config.json").is_file():
        print(f"reusing the merged model {out}", file=sys.stderr)
    else:
        make_room(Path(work), keep - 1)
        with atomic_path(out) as tmp:
            merge(model, adapter, tmp, dtype)
        print(f"merged {adapter} into {model}: {out}", file=sys.stderr)
    mark_used(out)
    return out


def mark_used(folder: Path) -> None:
    """Make ``folder``'s mtime the newest of its siblings': the most recently used copy.

    Strictly newer even within the file system's clock tick, so the order is never a tie.
    """
    newest = max(p.stat().st_mtime_ns for p in folder.parent.iterdir())
    now = max(time.time_ns(), newest + 1)
    os.utime(folder, ns=(now, now))


def make_room(work: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used merged models under ``work``.

    Leftovers of a killed merge (hidden temporary folders) go too.
    """
    if not work.is_dir():
        return
    folders = sorted(work.iterdir(), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    kept = [p for p in folders if not p.name.startswith(".")][:keep]
    for path in folders:
        if path not in kept:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def merge(model_dir: str | Path, adapter_dir: str | Path, out_dir: Path, dtype: str) -> None:
    """Merge the adapter into the model on the CPU and save it with the model's tokenizer.

    The same calls as :class:`radis.generate.hf.HFBackend` makes with an adapter, so the saved
    weights are the ones it merges in memory.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from radis.generate.backend import resolve_model

    model_dir = resolve_model(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    merged = PeftModel.from_pretrained(model, resolve_model(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(out_dir)


def open_backend(b, model: str, work: str, adapter: str = "") -> ShardedBackend:
    """The generation backend over ``model`` (+ LoRA ``adapter``), resumable under ``data/.work``.

    ``b`` is the ``base`` params (:class:`radis.core.params.BaseConfig`). The work key covers the
    backend, dtype, model and adapter, so a change of any of them never resumes another's shards.
    With ``b.vllm.data_parallel_size`` > 1 the shards are shared out among that many engines
    (:mod:`radis.generate.parallel`), with the same shards and results.
    """
    parts = [b.backend, b.dtype, model_fingerprint(model)]
    fingerprint = ":".join(parts + ([model_fingerprint(adapter)] if adapter else []))
    if b.vllm.data_parallel_size > 1:
        return open_parallel(b, model, adapter, Path("data/.work") / work, fingerprint)
    inner = load_backend(b.backend, model, b.dtype, adapter or None, b.vllm, b.seed)
    return ShardedBackend(inner, Path("data/.work") / work, b.shard_rows, fingerprint)
