"""LoRA fine-tuning of a saved model, and merging the adapter back into it."""

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
import torch
from peft import PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from radis.distributed import Replicas, local_device
from radis.generate import resolve_model
from radis.io import RadisError, atomic_path
from radis.shards import model_fingerprint
from radis.train import TrainConfig, check_kernels, fit, lora_config, tokenize_chat


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


def train_lora(
    model_dir: str | Path,
    rows: pd.DataFrame,
    cfg: TrainConfig,
    out_dir: Path,
    on_log=None,
    checkpoint: Path | None = None,
) -> list[dict]:
    """Train a LoRA adapter on ``train_set`` ``rows`` and save it to ``out_dir`` (atomically).

    Only the adapter is trained; the base model's weights stay frozen. Rows sharing a ``group``
    share a loss mean (see :func:`radis.train.fit`). ``checkpoint`` is the resumable checkpoint
    file. Under ``accelerate launch`` every process calls this and only the main one saves.
    """
    tokenizer, model = load_lora(model_dir, cfg)
    groups = pd.factorize(rows.group, sort=True)[0]
    examples = [
        dataclasses.replace(tokenize_chat(tokenizer, p, c, cfg.max_length, s), group=int(g))
        for p, c, s, g in zip(rows.prompt, rows.completion, rows.masked_suffix, groups)
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    replicas = Replicas()
    log = fit(model, examples, cfg, pad, on_log=on_log, checkpoint=checkpoint, replicas=replicas)
    state = replicas.full_state_dict()
    if replicas.is_main:
        if state is not None:  # FSDP: the gathered state of radis.train.LossModel
            state = {k.removeprefix("lm."): v for k, v in state.items()}
        with atomic_path(out_dir) as tmp:
            model.save_pretrained(tmp, state_dict=state)
        print(f"saved adapter: {out_dir} ({len(log)} steps)", file=sys.stderr)
    replicas.wait()
    return log


def checkpoint_path(work: Path, cfg: TrainConfig, rows: pd.DataFrame, model_dir: str) -> Path:
    """The checkpoint file for this exact run: keyed by params, data and model fingerprint."""
    h = hashlib.sha256()
    h.update(json.dumps([dataclasses.asdict(cfg), model_fingerprint(model_dir)]).encode())
    h.update(pd.util.hash_pandas_object(rows, index=False).values.tobytes())
    return work / h.hexdigest()[:16] / "checkpoint.pt"


def merge(model_dir: str | Path, adapter_dir: str | Path, out_dir: Path, dtype: str) -> None:
    """Merge the adapter into the base model (``merge_and_unload``) and save model and tokenizer."""
    if not Path(adapter_dir).is_dir():
        raise RadisError(f"{adapter_dir}: adapter directory not found (run the train stage)")
    tokenizer, model = load_base(model_dir, dtype)
    merged = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    merged.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
