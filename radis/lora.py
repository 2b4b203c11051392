"""LoRA fine-tuning of a saved model, and merging the adapter back into it."""

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from radis.generate import resolve_model
from radis.io import RadisError
from radis.shards import model_fingerprint
from radis.train import TrainConfig, fit, tokenize_chat


def load_base(model_dir: str | Path, dtype: str = "float32"):
    """Tokenizer and causal LM from a local folder or hub id, on the GPU when there is one."""
    model_dir = resolve_model(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
    return tokenizer, model.to("cuda" if torch.cuda.is_available() else "cpu")


def lora_config(kwargs: dict) -> LoraConfig:
    """``LoraConfig(**kwargs)`` for a causal LM, with a one-line error on a bad key."""
    try:
        return LoraConfig(task_type="CAUSAL_LM", **kwargs)
    except (TypeError, ValueError) as err:
        raise RadisError(f"params.yaml: train.lora: {err}") from None


def train_lora(
    model_dir: str | Path,
    rows: pd.DataFrame,
    cfg: TrainConfig,
    out_dir: Path,
    on_log=None,
    checkpoint: Path | None = None,
) -> list[dict]:
    """Train a LoRA adapter on ``train_set`` ``rows`` and save it to ``out_dir``.

    Only the adapter is trained; the base model's weights stay frozen. ``checkpoint`` is the
    resumable checkpoint file (see :func:`radis.train.fit`).
    """
    tokenizer, model = load_base(model_dir, cfg.dtype)
    torch.manual_seed(cfg.seed)
    model = get_peft_model(model, lora_config(cfg.lora))
    examples = [
        tokenize_chat(tokenizer, p, c, cfg.max_length, s)
        for p, c, s in zip(rows.prompt, rows.completion, rows.masked_suffix)
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    log = fit(model, examples, cfg, pad, on_log=on_log, checkpoint=checkpoint)
    model.save_pretrained(out_dir)
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
