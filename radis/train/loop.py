"""Supervised fine-tuning on prompt/completion chats with the prompt masked from the loss.

Used twice: LoRA fine-tuning of every method (stage ``train``) and the full fine-tuning that makes
the toy backbone. The loop is small on purpose: length-grouped micro-batches inside each
optimizer step, gradient accumulation to the effective batch, a token-level loss (per group of
rows, summed over the groups: SDRRL's per-subset loss), cosine (or linear/constant) schedule with
warm-up, and a per-step log. Each step's summed token losses are divided by one constant of the
run (:func:`loss_scale`), not by the step's own count: length grouping makes steps of short rows
and steps of long rows, and a per-step mean would weigh a token of a short-row step more than
one of a long-row step. With one loss group the constant is the target tokens of an average
step (LLaMA-Factory's token mean); with several it also divides each group by its number of
rows (SDRRL's Eq. 6). Under ``accelerate launch``
every process takes a disjoint share of each step's micro-batches (:mod:`radis.train.distributed`);
the constant comes from the whole training set, the same on every process, so the steps are
those of one process.
"""

import dataclasses
import importlib.util
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from peft.helpers import disable_input_dtype_casting
from torch.nn.attention import SDPBackend, sdpa_kernel
from transformers import get_scheduler

from radis.core import progress
from radis.core.config import PARAMS, parse, positive, probability
from radis.core.io import RadisError
from radis.core.templates import generation_prompt
from radis.train.checkpoint import load_checkpoint, save_checkpoint
from radis.train.distributed import DistributedConfig, Replicas
from radis.train.kernel import fused_lora

IGNORE = -100
#: SDPA kernels for training; cuDNN's is left out. It is PyTorch's first choice on Hopper GPUs but
#: builds a plan for every new shape, and micro-batches of varying length keep making new ones:
#: on an H100 (7B, paper-like lengths) leaving it out took MFU from 37 to 46 % (RaDis-like) and
#: from 25 to 41 % (Vanilla-like). Flash attention has no per-shape set-up.
TRAIN_SDPA = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]


def expandable_segments() -> None:
    """Let PyTorch's CUDA allocator grow segments (unless ``PYTORCH_CUDA_ALLOC_CONF`` is set).

    Call it before the first CUDA allocation. Micro-batches of varying shapes fragment the
    default cache: on an H100 a 7B at 73 GB peak made the allocator free its cache and retry,
    once failing inside cuBLAS; with expandable segments no retry and 1.4 % more tokens/s
    (README, *GPU benchmarks*).
    """
    os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")


@dataclass
class EarlyStopping:
    """Params ``train.early_stopping``: stop once the held-out loss stops falling.

    Attributes:
        validation_rows: Training rows held out (a seeded sample) whose loss is measured after
            every epoch; 0 disables early stopping and trains on every row.
        patience: Epochs without a new lowest held-out loss before training stops. The weights
            of the epoch with the lowest held-out loss are the ones saved.
    """

    validation_rows: int = 0
    patience: int = 1

    def __post_init__(self):
        positive(patience=self.patience)
        if self.validation_rows < 0:
            raise ValueError(f"validation_rows: {self.validation_rows} is negative")


@dataclass
class TrainConfig:
    """Params ``train`` (and ``toy.backbone.train``).

    Attributes:
        finetuning: ``lora``: train a LoRA adapter (``lora``) on the frozen base, saved as an
            adapter that the evaluations apply to the backbone (:mod:`radis.generate.serve`).
            ``full``: train every weight, kept in float32 (master weights) with the forward in
            ``dtype`` under autocast, as DeepSpeed's and the HF Trainer's bf16 mixed precision;
            saved as a whole model that the evaluations load in ``base.dtype``. A 7B needs ~16
            bytes a parameter (weights, gradients, AdamW): FSDP over several GPUs
            (``distributed.strategy: fsdp``).
        lora: Keyword arguments of ``peft.LoraConfig`` (``finetuning: lora``; unused with full).
        learning_rate: Peak learning rate.
        lr_scheduler: Schedule after warm-up.
        warmup_ratio: Share of optimizer steps spent warming up linearly.
        epochs: Passes over the training set.
        batch_size: Effective batch size (examples per optimizer step).
        micro_batch_size: Examples per forward pass; must divide ``batch_size``.
        micro_batch_tokens: Also cap each forward pass at this many padded tokens (rows ×
            longest row; 0: no cap). Long examples then go in smaller micro-batches, so the
            activation memory stays flat over a skewed length distribution.
        max_length: Examples are truncated to this many tokens.
        weight_decay: AdamW weight decay.
        max_grad_norm: Gradient clipping norm (0 disables).
        dtype: Parameter dtype of the base model while training (LoRA); the autocast dtype of
            the float32 weights (full fine-tuning).
        length_window: Optimizer steps whose examples are sorted by length together (1: sort
            only inside each step). Larger windows waste less on padding; the steps are then
            shuffled, as in HF's ``group_by_length``.
        checkpoint_every: Save a resumable checkpoint every this many optimizer steps (0: never).
        attn_implementation: Attention kernel (transformers' ``attn_implementation``):
            ``flash_attention_2`` needs the flash-attn package and a GPU.
        gradient_checkpointing: Recompute each layer's activations in the backward pass
            (non-reentrant): less activation memory for about a third more compute.
        fused_loss: Cross-entropy fused with the output layer (Liger Kernel, GPU): the logits
            are never materialised, which saves most of the memory with large vocabularies.
        distributed: Processes under ``accelerate launch`` (:mod:`radis.train.distributed`).
        early_stopping: Held-out rows and patience (:class:`EarlyStopping`); off by default.
        seed: Seed of LoRA initialisation, dropout and the data order.
    """

    finetuning: Literal["lora", "full"] = "lora"
    lora: dict = field(default_factory=dict)
    learning_rate: float = 1.0e-4
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_ratio: float = 0.03
    epochs: int = 3
    batch_size: int = 128
    micro_batch_size: int = 8
    micro_batch_tokens: int = 0
    max_length: int = 1024
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    length_window: int = 64
    checkpoint_every: int = 0
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2"] = "sdpa"
    gradient_checkpointing: bool = False
    fused_loss: bool = False
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    seed: int = 0

    def __post_init__(self):
        positive(
            learning_rate=self.learning_rate,
            epochs=self.epochs,
            batch_size=self.batch_size,
            micro_batch_size=self.micro_batch_size,
            max_length=self.max_length,
            length_window=self.length_window,
        )
        if self.micro_batch_tokens < 0:
            raise ValueError(f"micro_batch_tokens: {self.micro_batch_tokens} is negative")
        probability(warmup_ratio=self.warmup_ratio)
        if self.batch_size % self.micro_batch_size:
            raise ValueError(
                f"micro_batch_size: {self.micro_batch_size} does not divide "
                f"batch_size {self.batch_size}"
            )
        d = self.distributed
        if d.strategy == "fsdp" and d.num_processes > 1 and self.checkpoint_every:
            raise ValueError(
                "checkpoint_every: no resumable checkpoints under distributed.strategy fsdp; set 0"
            )
        if self.finetuning == "lora":
            lora_config(self.lora)
        if d.strategy == "fsdp" and d.fsdp_config.get("fsdp_version", 2) != 2:
            raise ValueError(
                "distributed.fsdp_config: only fsdp_version 2 (the default) is supported; FSDP1 "
                "cannot flatten a bf16 base with float32 adapters, nor gather their state"
            )


def lora_config(kwargs: dict):
    """``peft.LoraConfig(task_type="CAUSAL_LM", **kwargs)``, checked when params are read.

    PEFT checks the rank only when it builds the adapter layers, after the model has loaded;
    that check is made here too.

    Raises:
        ValueError: ``lora.<key>: ...``, naming the param (reported as one line by ``parse``).
    """
    from peft import LoraConfig

    try:
        config = LoraConfig(task_type="CAUSAL_LM", **kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(f"lora: {err}") from None
    for key, value in (("r", config.r), ("lora_alpha", config.lora_alpha)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"lora.{key}: must be a positive integer, got {value!r}")
    return config


def method_config(shared: dict, overrides, method: str, seed: int) -> TrainConfig:
    """Params ``train`` with ``build.<method>.train``'s overrides: METHOD's training params.

    Mappings (``lora``, ``distributed``) are merged key by key; ``seed`` is ``base.seed``'s.

    Args:
        shared: Params ``train``, shared by every method.
        overrides: Params ``build.<method>.train`` (``{}``: none).
        method: The method, for error messages.
        seed: ``base.seed``.

    Raises:
        RadisError: One line naming ``params.yaml`` and the field at fault.
    """
    cfg = parse(TrainConfig, {**shared, "seed": seed}, f"{PARAMS}: train")
    where = f"{PARAMS}: build.{method}.train"
    if not isinstance(overrides, dict):
        raise RadisError(f"{where}: expected a mapping, got {type(overrides).__name__}")
    allowed = sorted({f.name for f in dataclasses.fields(TrainConfig)} - {"seed"})
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise RadisError(f"{where}: unknown field(s) {unknown}; expected some of {allowed}")
    if not overrides:
        return cfg
    try:
        return parse(TrainConfig, {**_merge(shared, overrides), "seed": seed}, f"{PARAMS}: train")
    except RadisError as err:
        raise RadisError(f"{err} (with the overrides of {where})") from None


def _merge(base: dict, over: dict) -> dict:
    """``base`` updated by ``over``, mappings merged key by key."""
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if both else value
    return out


def check_kernels(cfg: TrainConfig) -> None:
    """Raise a one-line :class:`RadisError` if params ask for a kernel that is not installed."""
    if cfg.attn_implementation == "flash_attention_2":
        _require("attn_implementation: flash_attention_2", "flash_attn", "flash-attn")
    if cfg.fused_loss:
        _require("fused_loss: true", "liger_kernel", "liger-kernel", "make env GPU=1")


def _require(knob: str, module: str, package: str, install: str = "") -> None:
    """Raise if ``module`` is missing; ``install`` says how to get it (``pip install package``)."""
    if importlib.util.find_spec(module) is None:
        raise RadisError(
            f"params.yaml: train.{knob} needs the {package} package (GPU only), which is not "
            f"installed: {install or f'pip install {package}'}"
        )


@dataclass
class Example:
    """One tokenized training example; ``labels`` is ``IGNORE`` on prompt tokens.

    ``group`` numbers the example's loss group: each group's loss is divided by its rows and the
    groups summed (SDRRL's Eq. 6, :func:`loss_scale`; one group: the plain token mean).
    """

    input_ids: list[int]
    labels: list[int]
    group: int = 0


def tokenize_chat(
    tokenizer, prompt: str, completion: str, max_length: int, masked_suffix: str = ""
) -> Example:
    """Tokenize a single-turn chat, masking every prompt token from the loss.

    The prompt is the user turn rendered with the assistant header (the text the model sees at
    inference); the completion is the rest of the rendered conversation: the reply and the
    template's end-of-turn tokens, which are learned. A ``masked_suffix`` is appended to the
    reply but kept out of the loss, with the end-of-turn tokens after it: the model reads it
    and learns nothing from it (a control for RaDis: the longer reply without its gradient).
    """
    prompt_text = generation_prompt(tokenizer, prompt)
    reply = completion + masked_suffix
    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply}]
    full_text = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full_text.startswith(prompt_text):
        raise RadisError("chat template: the rendered conversation does not start with its prompt")
    p = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    rest = tokenizer(
        full_text[len(prompt_text) :],
        add_special_tokens=False,
        return_offsets_mapping=bool(masked_suffix),
    )
    c = rest["input_ids"]
    labels = list(c)
    if masked_suffix:
        if not full_text[len(prompt_text) :].startswith(reply):
            raise RadisError("chat template: the reply is not rendered verbatim after the prompt")
        labels = [
            t if start < len(completion) else IGNORE
            for t, (start, _) in zip(c, rest["offset_mapping"])
        ]
    ids = (p + c)[:max_length]
    return Example(ids, ([IGNORE] * len(p) + labels)[:max_length])


def step_batches(lengths: Sequence[int], cfg: TrainConfig, epoch: int) -> list[list[list[int]]]:
    """Split one epoch into optimizer steps, each a list of length-sorted micro-batches.

    A seeded permutation is cut into windows of ``length_window`` steps; each window is sorted by
    length and cut into steps of ``batch_size`` examples (the last may be smaller), and each step
    into micro-batches (:func:`split_step`). The steps are then shuffled, so similar lengths share
    a micro-batch (little padding) while the order of lengths over training stays random.
    """
    gen = torch.Generator().manual_seed(cfg.seed + epoch)
    order = torch.randperm(len(lengths), generator=gen).tolist()
    window = cfg.batch_size * cfg.length_window
    steps = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: -lengths[i])
        for s in range(0, len(chunk), cfg.batch_size):
            steps.append(split_step(chunk[s : s + cfg.batch_size], lengths, cfg))
    return [steps[i] for i in torch.randperm(len(steps), generator=gen).tolist()]


def split_step(step: list[int], lengths: Sequence[int], cfg: TrainConfig) -> list[list[int]]:
    """Cut a step, sorted longest first, into micro-batches.

    Each holds at most ``micro_batch_size`` rows and, when ``micro_batch_tokens`` is set, at most
    that many padded tokens (a row longer than the cap goes alone).
    """
    cap = cfg.micro_batch_tokens or math.inf
    out: list[list[int]] = []
    for i in step:
        mb = out[-1] if out else None
        if mb is None or len(mb) == cfg.micro_batch_size or (len(mb) + 1) * lengths[mb[0]] > cap:
            out.append([i])
        else:
            mb.append(i)
    return out


def token_counts(lengths: Sequence[int], micro_batches: list[list[int]]) -> tuple[int, int]:
    """Real and processed (padded) tokens of ``micro_batches``, each padded to its longest row."""
    real = sum(lengths[i] for mb in micro_batches for i in mb)
    processed = sum(len(mb) * max(lengths[i] for i in mb) for mb in micro_batches)
    return real, processed


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a micro-batch; padded positions get attention 0 and label ``IGNORE``.

    ``group`` holds each row's loss group.
    """
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        ids[row, : len(e.input_ids)] = torch.tensor(e.input_ids)
        labels[row, : len(e.labels)] = torch.tensor(e.labels)
        mask[row, : len(e.input_ids)] = 1
    group = torch.tensor([e.group for e in examples], dtype=torch.long)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "group": group}


def token_loss_sum(
    model, batch: dict[str, torch.Tensor], n_groups: int = 1, fused=None
) -> torch.Tensor:
    """Per-group sums of next-token cross-entropy over the labelled positions of ``batch``.

    The output layer runs on the labelled positions alone: the decoder's last hidden states
    are gathered there (one contiguous matrix, row after row) and only they become logits, so
    prompt and padding positions cost no output-layer work and no logits memory. (This is the
    language-model head of Llama, Qwen2 and Mistral: the output layer applied to the final
    hidden states.) With ``fused`` (Liger's fused linear cross-entropy) no logits are
    materialised at all: the gathered states go to the fused loss with the output layer's
    weight, once per group present. No attention mask is passed: :func:`collate` pads on the
    right, so under causal attention a real token sees only earlier, real positions, and padded
    positions carry no label; without a mask the kernel takes its plain causal path (no mask is
    built; ~5 % less time per micro-batch on the CPU).

    Args:
        model: A causal LM (or a ``PeftModel`` around one).
        batch: :func:`collate`'s output (``group``: each row's loss group).
        n_groups: Length of the result.
        fused: A ``LigerFusedLinearCrossEntropyLoss(reduction="sum")``, or None.

    Returns:
        Shape ``(n_groups,)``: entry g sums the token losses of the rows of group g.
    """
    targets = batch["labels"][:, 1:]
    picked = targets != IGNORE  # position t predicts token t + 1
    hidden = model.get_decoder()(input_ids=batch["input_ids"], use_cache=False).last_hidden_state
    states, labels = hidden[:, :-1][picked], targets[picked]
    group = batch["group"].to(labels.device)[:, None].expand_as(picked)[picked]
    if fused is not None:
        return _fused_sums(model, fused, states, labels, group, n_groups)
    logits = model.get_output_embeddings()(states).float()
    tokens = F.cross_entropy(logits, labels, reduction="none")
    return tokens.new_zeros(n_groups).index_add(0, group, tokens)


def _fused_sums(model, fused, states, labels, group, n_groups) -> torch.Tensor:
    """Per-group loss sums by the fused output layer + cross-entropy, one call per group."""
    head = model.get_output_embeddings()
    if type(head) is not torch.nn.Linear:
        raise RadisError(
            f"params.yaml: train.fused_loss: the output layer is a {type(head).__name__}, not a "
            "plain Linear (is it adapted by LoRA?); set fused_loss: false"
        )
    sums = []
    for g in range(n_groups):
        tokens = group == g
        h, y = (states, labels) if bool(tokens.all()) else (states[tokens], labels[tokens])
        if len(y) == 0:
            sums.append(states.new_zeros((), dtype=torch.float32))
            continue
        sums.append(fused(head.weight, h, y, head.bias).float())
    return torch.stack(sums)


class LossModel(torch.nn.Module):
    """The per-group loss sums of :func:`token_loss_sum` as a module (what DDP/FSDP wrap).

    With ``autocast`` (a bfloat16 or float16 base) the forward runs under ``torch.autocast`` in
    that dtype, and :func:`train_step` switches off PEFT's cast of each layer's input to the
    adapter's float32 (around forward and backward, so that recomputation under gradient
    checkpointing sees the same): the adapter's matmuls run in the base's dtype on float32
    master weights, as the HF Trainer's ``bf16=True`` does. Without it every adapted layer keeps
    a float32 copy of its input for the backward pass, the largest activation of a 7B model
    (on an H100: out of memory at 8 × 1024 tokens), and its matmuls leave the tensor cores.
    """

    def __init__(self, lm, n_groups: int, fused_loss: bool, autocast: torch.dtype | None = None):
        super().__init__()
        self.lm, self.n_groups, self.autocast = lm, n_groups, autocast
        self._no_split_modules = lm._no_split_modules  # FSDP's wrap policy reads the layer class
        self.fused = None
        if fused_loss:
            from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss

            self.fused = LigerFusedLinearCrossEntropyLoss(ignore_index=IGNORE, reduction="sum")

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        """Shape ``(n_groups,)``: per-group sums of the token losses of ``batch``."""
        if self.autocast is None:
            return token_loss_sum(self.lm, batch, self.n_groups, self.fused)
        with torch.autocast(batch["input_ids"].device.type, dtype=self.autocast):
            return token_loss_sum(self.lm, batch, self.n_groups, self.fused)


def target_count(example: Example) -> int:
    """Positions of ``example`` that are predicted and labelled (the first token never is)."""
    return sum(t != IGNORE for t in example.labels[1:])


def group_targets(step: list[list[int]], examples: Sequence[Example], targets, n: int):
    """Target tokens of each loss group over a whole optimizer step, shape ``(n,)``."""
    counts = [0] * n
    for i in (i for mb in step for i in mb):
        counts[examples[i].group] += targets[i]
    return torch.tensor(counts)


def loss_scale(examples: Sequence[Example], targets, batch_size: int, n: int) -> torch.Tensor:
    """The constant each step's summed token losses are divided by, per loss group, shape ``(n,)``.

    Entry g is ``batch_size`` × (target tokens per example over the training set) × (share of
    the examples in group g). Summed over an epoch, the objective is then, up to the constant
    factor (N / ``batch_size``) × (N / T) (N examples, T target tokens), SDRRL's Eq. 6:
    Σ_d (1 / |D_d|) Σ_{(x, y) ∈ D_d} ℓ_CE(x, y), with |D_d| the rows of group d and ℓ_CE a
    row's cross-entropy (its summed token losses, −log P(y | x)). Each group thus carries its
    weight whatever steps its rows land in, and a row's tokens weigh the same in every step.
    With one group the entry is the target tokens of an average step (the plain token mean of
    RaDis and the baselines: a step of average token count gets exactly its token mean).

    The constant depends only on the training set and ``batch_size``: it is the same in every
    epoch, for every micro-batch split and on every process.
    """
    rows = torch.zeros(n, dtype=torch.float64)
    for e in examples:
        rows[e.group] += 1
    per_step = sum(targets) * batch_size / len(examples)  # target tokens of an average step
    scale = per_step * (rows / len(examples))  # one group: rows / N is exactly 1
    return torch.where(scale > 0, scale, torch.ones_like(scale))  # a group without rows


def train_step(
    model, batches: list[tuple[dict, bool]], scale, params, cfg: TrainConfig, replicas: Replicas
) -> torch.Tensor:
    """Forward and backward over this process's micro-batches of one optimizer step.

    The step's objective is the sum over groups of (group's token losses) / ``scale`` (the
    group's entry of :func:`loss_scale`); each micro-batch's share is backpropagated at once, so
    accumulation over micro-batches gives exactly the step's objective. Gradients are summed
    over processes at the last backward (DDP averages, so each process scales its loss by their
    number); an inactive (padding) micro-batch contributes nothing.

    Forward and backward run with the SDPA kernels of :data:`TRAIN_SDPA`.

    Returns:
        Shape ``(n_groups,)``: the step's per-group sums of token losses, summed over processes.
    """
    device = next(model.parameters()).device
    scale = scale.to(device=device, dtype=torch.float32)
    sums = torch.zeros(len(scale), device=device)
    for k, (b, active) in enumerate(batches):
        b = {key: v.to(device) for key, v in b.items()}
        with (
            replicas.sync(last=k == len(batches) - 1),
            disable_input_dtype_casting(model, active=cfg.dtype != "float32"),
            sdpa_kernel(TRAIN_SDPA),
        ):
            group_sums = model(**b)
            ((group_sums / scale).sum() * (replicas.world if active else 0)).backward()
        if active:
            sums += group_sums.detach().float()
    if cfg.max_grad_norm > 0:
        replicas.clip_grad_norm_(params, cfg.max_grad_norm)
    return torch.tensor([replicas.sum(v) for v in sums.tolist()], dtype=torch.float64)


def checkpoint_layers(model) -> None:
    """Recompute each decoder layer's activations in the backward pass (non-reentrant).

    Args:
        model: A transformers model, or a PEFT model over one.
    """
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def fit(
    model,
    examples: Sequence[Example],
    cfg: TrainConfig,
    pad_id: int,
    on_log: Callable[[dict], None] | None = None,
    checkpoint: Path | None = None,
    replicas: Replicas | None = None,
    validation: Sequence[Example] = (),
    show_progress: bool = True,
    on_epoch: Callable[[int], None] | None = None,
) -> list[dict]:
    """Train the trainable parameters of ``model`` on ``examples``.

    With ``validation`` rows (``cfg.early_stopping``), their loss is measured after every epoch
    (``val_loss`` in the epoch's last record); training stops after ``patience`` epochs without a
    new lowest value, and the weights of the lowest one are restored.

    With ``checkpoint`` set, the state is saved there every ``cfg.checkpoint_every`` steps, and a
    checkpoint found there is resumed: the data order is a function of seed and epoch, so the
    resumed run takes the same steps as an uninterrupted one. Under ``accelerate launch``
    (``replicas``) every process runs this on the same examples and takes its share of each
    step; only the main process writes checkpoints.

    ``on_log`` gets every step's record as it is made, first those restored from a checkpoint.
    ``on_epoch`` is called with the epoch (from 1) right after its last step, on every process,
    before that step's checkpoint is saved, and not for the epochs a resumed run restored (they
    were done, hooks included, before the checkpoint that restores them).
    The main process shows a progress bar on stderr (:mod:`radis.core.progress`: steps, ETA, loss,
    learning rate, tokens/s) unless ``show_progress`` is false (benchmarks timing the loop).

    Returns:
        One log record per optimizer step: step, epoch, loss (the step's mean loss per target
        token, summed over loss groups: with one group the plain token mean), objective (what
        was minimised: the step's summed token losses over :func:`loss_scale`; its mean over an
        epoch is the epoch's token mean when there is one group and ``batch_size`` divides the
        examples), learning rate, target tokens, processed tokens and padding share, cumulative
        seconds, and processed tokens per second of the step.
    """
    replicas = replicas or Replicas()
    if cfg.gradient_checkpointing:
        checkpoint_layers(model)
    n_groups = 1 + max(e.group for e in [*examples, *validation])
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    lengths = [len(e.input_ids) for e in examples]
    targets = [target_count(e) for e in examples]
    scale = loss_scale(examples, targets, cfg.batch_size, n_groups)
    total = cfg.epochs * math.ceil(len(examples) / cfg.batch_size)
    warmup = round(cfg.warmup_ratio * total)
    sched = get_scheduler(
        cfg.lr_scheduler, optim, num_warmup_steps=warmup, num_training_steps=total
    )
    autocast = None if cfg.dtype == "float32" else getattr(torch, cfg.dtype)
    loss_model = replicas.prepare(LossModel(model, n_groups, cfg.fused_loss, autocast), optim)
    torch.manual_seed(cfg.seed + replicas.rank)
    log: list[dict] = []
    best: dict | None = None  # early stopping: the best epoch's trainable weights
    if checkpoint is not None and checkpoint.is_file():
        log, best = load_checkpoint(checkpoint, model, optim, sched, replicas.rank)
    every = cfg.checkpoint_every if checkpoint is not None else 0
    for record in log if on_log else ():  # restored from the checkpoint
        on_log(record)
    shown = show_progress and replicas.is_main
    # fused_lora: a leaner LoRA forward and backward, same arithmetic
    with fused_lora(model), progress.bar(total, "train", "step", shown) as bar:
        bar.skip(len(log))
        loss_model.train()
        start, step = time.perf_counter(), 0
        last = start
        for epoch in range(cfg.epochs):
            steps = step_batches(lengths, cfg, epoch)
            for k, micro_batches in enumerate(steps):
                step += 1
                if step <= len(log):
                    continue
                counts = group_targets(micro_batches, examples, targets, n_groups)
                batches = [
                    (collate([examples[i] for i in mb], pad_id), active)
                    for mb, active in replicas.shard(micro_batches)
                ]
                sums = train_step(loss_model, batches, scale, params, cfg, replicas)
                lr = sched.get_last_lr()[0]
                optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                real, processed = token_counts(lengths, micro_batches)
                now = time.perf_counter()
                record = dict(
                    step=step,
                    epoch=epoch + 1,
                    loss=round(float((sums / counts.clamp(min=1)).sum()), 6),
                    objective=round(float((sums / scale).sum()), 6),
                    lr=lr,
                    target_tokens=int(counts.sum()),
                    tokens=processed,
                    padding=round(1 - real / processed, 4),
                    seconds=round(now - start, 3),
                    tokens_per_s=round(processed / max(now - last, 1e-9), 1),
                )
                if validation and k == len(steps) - 1:
                    val = validation_loss(loss_model, validation, pad_id, n_groups, cfg)
                    record["val_loss"] = round(val, 6)
                    if val < min((r["val_loss"] for r in log if "val_loss" in r), default=math.inf):
                        best = {n: p.detach().clone() for n, p in named_trainable(model)}
                last = time.perf_counter()  # tokens/s leaves the held-out loss out
                log.append(record)
                if on_log:
                    on_log(record)
                bar.update(1, tokens=processed, loss=record["loss"], lr=lr)
                if on_epoch and k == len(steps) - 1:
                    on_epoch(epoch + 1)
                if every and step % every == 0:
                    save_checkpoint(checkpoint, model, optim, sched, log, replicas, best)
            if validation and stale_epochs(log) >= cfg.early_stopping.patience:
                break
    if best is not None:
        restore(model, best)
    loss_model.eval()
    return log


def hold_out(examples: list[Example], cfg: TrainConfig) -> tuple[list[Example], list[Example]]:
    """Split ``examples`` into training and early stopping's held-out rows (a seeded sample).

    Raises:
        RadisError: When the held-out rows would leave no training row.
    """
    n = cfg.early_stopping.validation_rows
    if n == 0:
        return examples, []
    if n >= len(examples):
        raise RadisError(
            f"{PARAMS}: train.early_stopping.validation_rows: {n} held-out rows leave none of "
            f"the {len(examples)} training rows"
        )
    gen = torch.Generator().manual_seed(cfg.seed)
    held = set(torch.randperm(len(examples), generator=gen)[:n].tolist())
    train = [e for i, e in enumerate(examples) if i not in held]
    return train, [e for i, e in enumerate(examples) if i in held]


def named_trainable(model):
    """``(name, parameter)`` of the parameters ``model`` trains."""
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def restore(model, weights: dict) -> None:
    """Copy ``weights`` (name to tensor) into ``model``'s trainable parameters."""
    with torch.no_grad():
        for name, p in named_trainable(model):
            p.copy_(weights[name].to(p.device))


def stale_epochs(log: list[dict]) -> int:
    """Epochs measured since the lowest ``val_loss`` of ``log`` (0: the last one is the lowest)."""
    values = [r["val_loss"] for r in log if "val_loss" in r]
    return len(values) - 1 - values.index(min(values)) if values else 0


def validation_loss(loss_model, examples: Sequence[Example], pad_id: int, n_groups: int, cfg):
    """The held-out loss: per loss group the token mean, summed over the groups (as ``loss``).

    Every process computes it over all of ``examples`` (in micro-batches of the training's
    size, longest first), so every process takes the same early-stopping decision.
    """
    lengths = [len(e.input_ids) for e in examples]
    order = sorted(range(len(examples)), key=lambda i: -lengths[i])
    micro_batches = split_step(order, lengths, cfg)
    targets = [target_count(e) for e in examples]
    counts = group_targets(micro_batches, examples, targets, n_groups).double()
    device = next(loss_model.parameters()).device
    sums = torch.zeros(n_groups, dtype=torch.float64)
    loss_model.eval()
    with torch.no_grad(), sdpa_kernel(TRAIN_SDPA):
        for mb in micro_batches:
            batch = collate([examples[i] for i in mb], pad_id)
            sums += loss_model(**{k: v.to(device) for k, v in batch.items()}).double().cpu()
    loss_model.train()
    return float((sums / counts.clamp(min=1)).sum())
