"""Gradient similarity per layer: do a method's losses pull together or against each other.

The paper's §5.2 (Figure 5) compares, per transformer layer, the gradient of the MT loss
−log P(y | x, I) with that of the method's regularisation term (RaDis: −log P(r | y, x, I);
Seq-KD: −log P(y′ | x, I)) on a validation sample of 128 rows per direction: a positive cosine
means the two objectives agree, a negative one that they conflict. Beside it (``general_vs_train``)
the gradient of a general-ability loss, the backbone's own answers to general prompts, against
that of the method's whole training loss on a sample of its training set: a negative cosine
means that training pushes the model away from what it answered before (forgetting).

A layer's gradient is the gradient of the LoRA adapter's parameters (A and B) of every adapted
linear layer of that transformer block, flattened and concatenated (:func:`layer_groups`), in
float32, summed over micro-batches of the whole set, of the set's token mean (per loss group,
as the ``train`` stage weighs them, :func:`radis.train.loop.loss_scale`). The cosine is exact;
no random projection (LESS projects to 8192 dimensions to store features, which a cosine of two
vectors does not need). The model runs in ``train.dtype`` under autocast as in training, with
dropout off.

Checkpoints (:func:`checkpoints`): the backbone with a fresh adapter initialised as ``train``
initialises it (``train.lora``, ``base.seed``), then the adapter of every epoch
(``data/models/<method>/epochs/<k>``). At initialisation B = 0, so the gradient of every A is
zero and the backbone's cosines are those of the B gradients alone: the directions in which
training starts. A model without per-epoch adapters (a whole model, ``finetuning: full``) gives
one checkpoint, ``final``, with a fresh adapter on it.
"""

import gc
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import torch
from peft.helpers import disable_input_dtype_casting
from torch.nn.attention import sdpa_kernel

from radis.analysis.gradsets import answered, own_answers, sample, tokenize
from radis.core.config import positive
from radis.core.io import RadisError, atomic_path
from radis.core.templates import generation_prompt
from radis.generate.backend import GenerationConfig
from radis.train.loop import (
    TRAIN_SDPA,
    Example,
    LossModel,
    TrainConfig,
    collate,
    loss_scale,
    split_step,
    target_count,
)
from radis.train.lora import epoch_adapters, load_lora


@dataclass
class GradcosConfig:
    """Params ``gradcos``.

    Attributes:
        rows_per_direction: Validation rows per translation direction for the MT-vs-regulariser
            pair (paper: 128, 1,024 in all).
        train_rows: Training-set rows (seeded sample; 0: all) for the general-vs-training pair.
        general_rows: The backbone's general answers (seeded sample; 0: all).
        micro_batch_size: Rows per forward and backward pass (gradients are summed over them).
        micro_batch_tokens: Also cap a pass at this many padded tokens (0: no cap).
        generation: Decoding of the backbone's answers when its evaluation holds none (the
            paper setup: a sample of ``data/fetch/instructions.parquet``'s prompts).
    """

    rows_per_direction: int = 128
    train_rows: int = 1024
    general_rows: int = 256
    micro_batch_size: int = 8
    micro_batch_tokens: int = 0
    generation: GenerationConfig = field(default_factory=GenerationConfig)

    def __post_init__(self):
        positive(rows_per_direction=self.rows_per_direction, micro_batch_size=self.micro_batch_size)
        for name in ("train_rows", "general_rows", "micro_batch_tokens"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: {getattr(self, name)} is negative")


#: The pairs of sets compared (:mod:`radis.analysis.gradsets`), by name.
PAIRS = {"mt_vs_reg": ("mt", "reg"), "general_vs_train": ("general", "train")}
#: A parameter's block index: the first number of its dotted name (``model.layers.<i>.``).
LAYER = re.compile(r"\.(\d+)\.")


def layer_of(name: str) -> int:
    """The transformer block a parameter belongs to (-1: outside every block)."""
    found = LAYER.search(name)
    return int(found.group(1)) if found else -1


def layer_groups(model) -> dict[int, list[str]]:
    """The trainable (LoRA) parameters' names by block index, in order."""
    groups: dict[int, list[str]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            groups.setdefault(layer_of(name), []).append(name)
    return dict(sorted(groups.items()))


def gradient(model, examples: list[Example], train: TrainConfig, cfg: GradcosConfig, pad_id: int):
    """The float32 gradient of the set's loss w.r.t. every trainable parameter, by name.

    The loss is each loss group's summed token losses over :func:`~radis.train.loop.loss_scale`
    for one step of the whole set (one group: the token mean), accumulated over micro-batches.

    Raises:
        RadisError: If the set has no target token.
    """
    targets = [target_count(e) for e in examples]
    if sum(targets) == 0:
        raise RadisError("gradcos: a set has no target token (rows empty or cut by max_length)")
    n_groups = 1 + max(e.group for e in examples)
    autocast = None if train.dtype == "float32" else getattr(torch, train.dtype)
    loss_model = LossModel(model, n_groups, train.fused_loss, autocast)
    lengths = [len(e.input_ids) for e in examples]
    order = sorted(range(len(examples)), key=lambda i: -lengths[i])
    passes = replace(
        train,
        batch_size=cfg.micro_batch_size,
        micro_batch_size=cfg.micro_batch_size,
        micro_batch_tokens=cfg.micro_batch_tokens,
    )
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    device = next(model.parameters()).device
    scale = loss_scale(examples, targets, len(examples), n_groups).to(device)
    model.zero_grad(set_to_none=True)
    for mb in split_step(order, lengths, passes):
        batch = {k: v.to(device) for k, v in collate([examples[i] for i in mb], pad_id).items()}
        with (
            disable_input_dtype_casting(model, active=train.dtype != "float32"),
            sdpa_kernel(TRAIN_SDPA),
        ):
            (loss_model(**batch) / scale).sum().backward()  # accumulated in each .grad
    zero = torch.zeros_like
    grads = {
        n: zero(p, dtype=torch.float) if p.grad is None else p.grad.detach().float()
        for n, p in params.items()
    }
    model.zero_grad(set_to_none=True)
    return grads


def cosines(a: dict, b: dict, groups: dict[int, list[str]]) -> dict[int, float]:
    """Per block, the cosine of the concatenated gradients ``a`` and ``b`` (NaN if one is 0)."""
    out = {}
    for layer, names in groups.items():
        dot = na = nb = 0.0
        for n in names:
            x, y = a[n].double(), b[n].double()
            dot += float((x * y).sum())
            na += float((x * x).sum())
            nb += float((y * y).sum())
        out[layer] = dot / math.sqrt(na * nb) if na > 0 and nb > 0 else math.nan
    return out


def checkpoints(folder: str | Path) -> list[tuple[str, Path | None]]:
    """``backbone`` (no folder), then ``epoch<k>`` per saved epoch adapter, else ``final``."""
    epochs = [(f"epoch{k}", path) for k, path in epoch_adapters(folder)]
    return [("backbone", None), *(epochs or [("final", Path(folder))])]


def load_adapter(model, folder: Path) -> None:
    """Copy the adapter saved in ``folder`` into ``model``'s (same rank and scale).

    Raises:
        RadisError: If it was trained with another ``train.lora`` (rank, alpha, modules).
    """
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    saved = json.loads((folder / "adapter_config.json").read_text())
    ours = model.peft_config["default"]
    loaded = set_peft_model_state_dict(model, load_file(folder / "adapter_model.safetensors"))
    missing = [k for k in loaded.missing_keys if "lora_" in k]
    if (saved.get("r"), saved.get("lora_alpha")) != (ours.r, ours.lora_alpha) or missing:
        raise RadisError(
            f"{folder}: the adapter does not match params train.lora (rank, alpha or modules); "
            "retrain it: dvc repro train"
        )


def at_checkpoints(model_dir: str, folder: Path, train: TrainConfig) -> Iterator[tuple]:
    """``(checkpoint, tokenizer, model)`` at every checkpoint of a method, in order.

    The backbone is loaded once with a fresh adapter (:func:`radis.train.lora.load_lora`); each
    epoch's adapter is then copied into it. A whole model gets a fresh adapter of its own.
    """
    tokenizer, model = load_lora(model_dir, train)
    for name, path in checkpoints(folder):
        if path is not None and (path / "adapter_config.json").is_file():
            load_adapter(model, path)
        elif path is not None:
            del model
            gc.collect()
            tokenizer, model = load_lora(path, train)
        model.eval()  # dropout off: the gradient of the loss itself
        yield name, tokenizer, model


def analyse(
    model_dir: str, folder: Path, sets: dict[str, pd.DataFrame], train: TrainConfig, cfg
) -> pd.DataFrame:
    """Per checkpoint, pair (of :data:`PAIRS` whose sets are given) and layer: the cosine.

    Args:
        model_dir: The backbone.
        folder: The method's model folder (``data/models/<method>``).
        sets: Tables of :mod:`radis.analysis.gradsets` by name (``mt``, ``reg``, ``general``,
            ``train``).
        train: The method's training params (``train`` with its overrides).
        cfg: Params ``gradcos``.
    """
    rows, examples = [], None
    for name, tokenizer, model in at_checkpoints(model_dir, folder, train):
        if examples is None:
            examples = {k: tokenize(tokenizer, v, train.max_length) for k, v in sets.items()}
        pad = tokenizer.pad_token_id
        pad = tokenizer.eos_token_id if pad is None else pad
        groups = layer_groups(model)
        for pair, (a, b) in PAIRS.items():
            if a in sets and b in sets:
                ga = gradient(model, examples[a], train, cfg, pad)
                gb = gradient(model, examples[b], train, cfg, pad)
                found = cosines(ga, gb, groups)
                rows += [
                    dict(checkpoint=name, pair=pair, layer=k, cosine=v) for k, v in found.items()
                ]
                mean = sum(v for v in found.values() if not math.isnan(v)) / len(found)
                print(f"gradcos: {name}: {pair} mean cosine {mean:.4f}", file=sys.stderr)
    return pd.DataFrame(rows, columns=["checkpoint", "pair", "layer", "cosine"])


def general_set(
    predictions: pd.DataFrame,
    instructions: pd.DataFrame,
    cfg: GradcosConfig,
    seed: int,
    open_backend: Callable,
) -> pd.DataFrame:
    """The backbone's own general answers: from its evaluation, or generated here.

    The toy world's evaluation holds the backbone's answers to its general items; the paper
    setup's holds none, so the backbone answers a seeded sample of the instruction prompts
    (greedy, ``cfg.generation``) through ``open_backend()`` (a generation backend, released
    before the gradients need the accelerator).

    Raises:
        RadisError: If there is no answer and no prompt to answer.
    """
    chats = sample(own_answers(predictions), cfg.general_rows, seed, "general")
    if chats.empty:
        prompts = sample(instructions, cfg.general_rows, seed, "general")
        backend = open_backend()
        users = [generation_prompt(backend.tokenizer, p) for p in prompts.prompt]
        outs = backend.generate(users, replace(cfg.generation, seed=seed))
        backend.clean()
        backend.inner = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        chats = answered(prompts, outs)
    if chats.empty:
        raise RadisError(
            "gradcos: no general answer of the backbone: data/eval/backbone holds none and "
            "data/fetch/instructions.parquet no prompt to answer"
        )
    return chats


def metrics(table: pd.DataFrame, sizes: dict[str, int]) -> dict:
    """Flat metrics of :func:`analyse`'s table.

    Per pair and checkpoint: the mean cosine over the layers, the layers with a positive cosine,
    and the layers (``<pair>.<checkpoint>.mean``, ``.positive_layers``, ``.layers``); the rows of
    every set (``rows.<set>``).
    """
    out: dict = {f"rows.{k}": v for k, v in sizes.items()}
    for pair in PAIRS:
        rows = table[table.pair == pair]
        for name in dict.fromkeys(rows.checkpoint):
            values = rows.cosine[rows.checkpoint == name]
            valid = values.dropna()
            key = f"{pair}.{name}"
            out[f"{key}.mean"] = round(float(valid.mean()), 4) if len(valid) else None
            out[f"{key}.positive_layers"] = int((valid > 0).sum())
            out[f"{key}.layers"] = len(values)
    return out


TITLES = {
    "mt_vs_reg": "MT loss vs. regularisation term",
    "general_vs_train": "general answers vs. training loss",
}


def plot(table: pd.DataFrame, path: Path, title: str) -> None:
    """Per-layer cosines, one panel per pair and one line per checkpoint (paper Figure 5)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    pairs = [p for p in PAIRS if (table.pair == p).any()]
    fig, axes = plt.subplots(1, len(pairs), figsize=(5 * len(pairs), 3.6), dpi=120, squeeze=False)
    for ax, pair in zip(axes[0], pairs):
        rows = table[table.pair == pair]
        for name in dict.fromkeys(rows.checkpoint):
            line = rows[rows.checkpoint == name]
            ax.plot(line.layer, line.cosine, marker="o", ms=3, label=name)
        ax.axhline(0, color="grey", lw=0.8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="layer", ylabel="cosine", title=TITLES[pair])
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
