"""Fine-tuning of a saved model: a LoRA adapter, or every weight."""

import contextlib
import dataclasses
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
import torch
from peft import get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from radis.core.io import atomic_path
from radis.generate.backend import resolve_model
from radis.generate.shards import model_fingerprint
from radis.train.distributed import Replicas, local_device
from radis.train.loop import TrainConfig, check_kernels, fit, hold_out, lora_config, tokenize_chat


def load_base(model_dir: str | Path, dtype: str = "float32", attn_implementation: str = "sdpa"):
    """Tokenizer and causal LM from a local folder or hub id, on this process's GPU if any."""
    model_dir = resolve_model(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=getattr(torch, dtype), attn_implementation=attn_implementation
    )
    return tokenizer, model.to(local_device())


def load_lora(model_dir: str | Path, cfg: TrainConfig):
    """Tokenizer and the base model with a fresh LoRA adapter (seeded), per params ``train``.

    peft keeps the adapter in float32 when the base is bfloat16 or float16
    (``autocast_adapter_dtype``), so the optimizer updates float32 weights.
    """
    check_kernels(cfg)
    tokenizer, model = load_base(model_dir, cfg.dtype, cfg.attn_implementation)
    torch.manual_seed(cfg.seed)
    return tokenizer, get_peft_model(model, lora_config(cfg.lora))  # checked by TrainConfig


def load_trainable(model_dir: str | Path, cfg: TrainConfig):
    """Tokenizer and the model to train: :func:`load_lora`, or the whole base model.

    With ``finetuning: full`` the base model is loaded in float32, every weight trainable (the
    forward runs under autocast in ``cfg.dtype``: :class:`radis.train.loop.LossModel`).
    """
    if cfg.finetuning == "lora":
        return load_lora(model_dir, cfg)
    check_kernels(cfg)
    torch.manual_seed(cfg.seed)
    return load_base(model_dir, "float32", cfg.attn_implementation)


#: The subfolder of a LoRA method's model folder that keeps the adapter of every epoch.
EPOCHS = "epochs"


def train_lora(
    model_dir: str | Path,
    rows: pd.DataFrame,
    cfg: TrainConfig,
    out_dir: Path,
    on_log=None,
    checkpoint: Path | None = None,
    show_progress: bool = True,
) -> list[dict]:
    """Train on ``train_set`` ``rows`` and save the result to ``out_dir`` (atomically).

    ``finetuning: lora``: only the adapter is trained, the base model's weights stay frozen, and
    the adapter is saved, with the adapter of the end of every epoch in ``out_dir/epochs/<k>``
    (:func:`epoch_adapters`; the evaluations read only the top folder). ``full``: every weight
    is trained and the whole model is saved with its tokenizer (no per-epoch copies: a whole
    model each). Rows sharing a ``group`` form one loss group (see
    :func:`radis.train.loop.fit`). ``checkpoint`` is the resumable checkpoint file; ``on_log``
    and ``show_progress`` are :func:`radis.train.loop.fit`'s. Under ``accelerate launch`` every
    process calls this and only the main one saves.
    """
    tokenizer, model = load_trainable(model_dir, cfg)
    groups = pd.factorize(rows.group, sort=True)[0]
    examples = [
        dataclasses.replace(tokenize_chat(tokenizer, p, c, cfg.max_length, s), group=int(g))
        for p, c, s, g in zip(rows.prompt, rows.completion, rows.masked_suffix, groups)
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    examples, validation = hold_out(examples, cfg)
    replicas = Replicas()
    with epoch_folder(checkpoint) as epochs:

        def on_epoch(k: int) -> None:
            save_model(model, tokenizer, cfg, replicas, epochs / str(k))

        hook = on_epoch if cfg.finetuning == "lora" else None
        args = (on_log, checkpoint, replicas, validation, show_progress)
        log = fit(model, examples, cfg, pad, *args, on_epoch=hook)
        save_model(model, tokenizer, cfg, replicas, out_dir, epochs)
    if replicas.is_main:
        print(f"saved {cfg.finetuning} model: {out_dir} ({len(log)} steps)", file=sys.stderr)
    return log


@contextlib.contextmanager
def epoch_folder(checkpoint: Path | None):
    """Where the epochs' adapters wait for the final save: beside the resumable checkpoint.

    There they outlive a killed run, as the checkpoint does, and go with it once the stage
    succeeds; without a checkpoint, a temporary folder.
    """
    if checkpoint is not None:
        yield checkpoint.parent / EPOCHS
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def save_model(model, tokenizer, cfg: TrainConfig, replicas, out_dir: Path, epochs=None) -> None:
    """Save the adapter (or whole model) to ``out_dir`` atomically, on the main process.

    Every process must call it (FSDP gathers the state). ``epochs``: a folder of per-epoch
    adapters copied into ``out_dir/epochs``.
    """
    state = replicas.full_state_dict()
    if replicas.is_main:
        if state is not None:  # FSDP: the gathered state of radis.train.loop.LossModel
            state = {k.removeprefix("lm."): v for k, v in state.items()}
        with atomic_path(out_dir) as tmp:
            model.save_pretrained(tmp, state_dict=state)
            if cfg.finetuning == "full":
                tokenizer.save_pretrained(tmp)
            else:
                sort_target_modules(tmp / "adapter_config.json")
            if epochs is not None and epochs.is_dir() and any(epochs.iterdir()):
                shutil.copytree(epochs, tmp / EPOCHS)
    replicas.wait()


def epoch_adapters(folder: str | Path) -> list[tuple[int, Path]]:
    """The per-epoch adapters a LoRA method's folder holds, ``(epoch, folder)`` by epoch."""
    root = Path(folder) / EPOCHS
    found = [p for p in root.iterdir() if p.name.isdigit()] if root.is_dir() else []
    return sorted((int(p.name), p) for p in found)


def sort_target_modules(path: Path) -> None:
    """Write the adapter config's ``target_modules`` sorted.

    PEFT resolves ``all-linear`` to a set and saves it in set order, which string hashing
    randomises per process: the same adapter would get another file, and another DVC hash.
    """
    config = json.loads(path.read_text())
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
    path.write_text(json.dumps(config, indent=2, sort_keys=True))


def checkpoint_path(work: Path, cfg: TrainConfig, rows: pd.DataFrame, model_dir: str) -> Path:
    """The checkpoint file for this exact run: keyed by params, data and model fingerprint."""
    h = hashlib.sha256()
    h.update(json.dumps([dataclasses.asdict(cfg), model_fingerprint(model_dir)]).encode())
    h.update(pd.util.hash_pandas_object(rows, index=False).values.tobytes())
    return work / h.hexdigest()[:16] / "checkpoint.pt"
