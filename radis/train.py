"""Supervised fine-tuning on prompt/completion chats with the prompt masked from the loss.

Used twice: LoRA fine-tuning of every method (stage ``train``) and the full fine-tuning that makes
the toy backbone. The loop is small on purpose: length-grouped micro-batches inside each
optimizer step, gradient accumulation to the effective batch, a token-level mean loss over the
whole effective batch, cosine (or linear/constant) schedule with warm-up, and a per-step log.
"""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from transformers import get_scheduler

from radis.config import positive, probability
from radis.io import RadisError, atomic_path
from radis.templates import generation_prompt

IGNORE = -100


@dataclass
class TrainConfig:
    """Params ``train`` (and ``toy.backbone.train``).

    Attributes:
        lora: Keyword arguments of ``peft.LoraConfig`` (empty for full fine-tuning).
        learning_rate: Peak learning rate.
        lr_scheduler: Schedule after warm-up.
        warmup_ratio: Share of optimizer steps spent warming up linearly.
        epochs: Passes over the training set.
        batch_size: Effective batch size (examples per optimizer step).
        micro_batch_size: Examples per forward pass; must divide ``batch_size``.
        max_length: Examples are truncated to this many tokens.
        weight_decay: AdamW weight decay.
        max_grad_norm: Gradient clipping norm (0 disables).
        dtype: Parameter dtype of the base model while training.
        length_window: Optimizer steps whose examples are sorted by length together (1: sort
            only inside each step). Larger windows waste less on padding; the steps are then
            shuffled, as in HF's ``group_by_length``.
        checkpoint_every: Save a resumable checkpoint every this many optimizer steps (0: never).
        seed: Seed of LoRA initialisation, dropout and the data order.
    """

    lora: dict = field(default_factory=dict)
    learning_rate: float = 1.0e-4
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_ratio: float = 0.03
    epochs: int = 3
    batch_size: int = 128
    micro_batch_size: int = 8
    max_length: int = 1024
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    length_window: int = 64
    checkpoint_every: int = 0
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
        probability(warmup_ratio=self.warmup_ratio)
        if self.batch_size % self.micro_batch_size:
            raise ValueError(
                f"micro_batch_size: {self.micro_batch_size} does not divide "
                f"batch_size {self.batch_size}"
            )


@dataclass
class Example:
    """One tokenized training example; ``labels`` is ``IGNORE`` on prompt tokens."""

    input_ids: list[int]
    labels: list[int]


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
    into micro-batches. The steps are then shuffled, so similar lengths share a micro-batch (little
    padding) while the order of lengths over training stays random.
    """
    gen = torch.Generator().manual_seed(cfg.seed + epoch)
    order = torch.randperm(len(lengths), generator=gen).tolist()
    window, mbs = cfg.batch_size * cfg.length_window, cfg.micro_batch_size
    steps = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: -lengths[i])
        for s in range(0, len(chunk), cfg.batch_size):
            step = chunk[s : s + cfg.batch_size]
            steps.append([step[i : i + mbs] for i in range(0, len(step), mbs)])
    return [steps[i] for i in torch.randperm(len(steps), generator=gen).tolist()]


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a micro-batch; padded positions get attention 0 and label ``IGNORE``."""
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        ids[row, : len(e.input_ids)] = torch.tensor(e.input_ids)
        labels[row, : len(e.labels)] = torch.tensor(e.labels)
        mask[row, : len(e.input_ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def token_loss_sum(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of next-token cross-entropy over the labelled positions of ``batch``.

    Logits are computed only from the first labelled position of the micro-batch on
    (``logits_to_keep``): the prompt's logits are never materialised, which saves the output
    layer's work and, with large vocabularies, most of the activation memory.
    """
    labels = batch["labels"]
    width = labels.size(1)
    labelled = (labels != IGNORE).any(dim=0).nonzero()
    first = int(labelled[0]) if len(labelled) else width - 1
    keep = width - max(first, 1) + 1
    out = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep
    )
    logits, labels = out.logits[:, :-1].float(), labels[:, width - keep + 1 :]
    return F.cross_entropy(
        logits.reshape(-1, logits.size(-1)),
        labels.reshape(-1),
        ignore_index=IGNORE,
        reduction="sum",
    )


def save_checkpoint(path: Path, model, optim, sched, log: list[dict]) -> None:
    """Save what resuming needs: trainable weights, optimizer, schedule, RNG and the log."""
    state = {
        "trainable": {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad},
        "optim": optim.state_dict(),
        "sched": sched.state_dict(),
        "rng": torch.get_rng_state(),
        "log": log,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path, model, optim, sched) -> list[dict]:
    """Restore a checkpoint written by :func:`save_checkpoint`; return its log."""
    state = torch.load(path, weights_only=False)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state["trainable"].items():
            params[name].copy_(value)
    optim.load_state_dict(state["optim"])
    sched.load_state_dict(state["sched"])
    torch.set_rng_state(state["rng"])
    return state["log"]


def train_step(model, batches: list[dict], params, cfg: TrainConfig, device) -> tuple[float, int]:
    """Forward and backward over one optimizer step's micro-batches; return loss and targets."""
    n_target = sum(int((b["labels"][:, 1:] != IGNORE).sum()) for b in batches)
    loss_sum = 0.0
    for b in batches:
        b = {k: v.to(device) for k, v in b.items()}
        loss = token_loss_sum(model, b) / max(n_target, 1)
        loss.backward()
        loss_sum += loss.item()
    if cfg.max_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
    return loss_sum, n_target


def fit(
    model,
    examples: Sequence[Example],
    cfg: TrainConfig,
    pad_id: int,
    on_log: Callable[[dict], None] | None = None,
    checkpoint: Path | None = None,
) -> list[dict]:
    """Train the trainable parameters of ``model`` on ``examples``.

    With ``checkpoint`` set, the state is saved there every ``cfg.checkpoint_every`` steps, and a
    checkpoint found there is resumed: the data order is a function of seed and epoch, so the
    resumed run takes the same steps as an uninterrupted one.

    Returns:
        One log record per optimizer step: step, epoch, loss (mean per target token), learning
        rate, target tokens, processed tokens and padding share, cumulative seconds.
    """
    device = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    lengths = [len(e.input_ids) for e in examples]
    total = cfg.epochs * math.ceil(len(examples) / cfg.batch_size)
    warmup = round(cfg.warmup_ratio * total)
    sched = get_scheduler(
        cfg.lr_scheduler, optim, num_warmup_steps=warmup, num_training_steps=total
    )
    torch.manual_seed(cfg.seed)
    log: list[dict] = []
    if checkpoint is not None and checkpoint.is_file():
        log = load_checkpoint(checkpoint, model, optim, sched)
    model.train()
    start, step = time.perf_counter(), 0
    for epoch in range(cfg.epochs):
        for micro_batches in step_batches(lengths, cfg, epoch):
            step += 1
            if step <= len(log):
                continue
            batches = [collate([examples[i] for i in mb], pad_id) for mb in micro_batches]
            loss, n_target = train_step(model, batches, params, cfg, device)
            lr = sched.get_last_lr()[0]
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
            real = sum(int(b["attention_mask"].sum()) for b in batches)
            processed = sum(b["input_ids"].numel() for b in batches)
            record = dict(
                step=step,
                epoch=epoch + 1,
                loss=round(loss, 6),
                lr=lr,
                target_tokens=n_target,
                tokens=processed,
                padding=round(1 - real / processed, 4),
                seconds=round(time.perf_counter() - start, 3),
            )
            log.append(record)
            if on_log:
                on_log(record)
            if checkpoint is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                save_checkpoint(checkpoint, model, optim, sched, log)
    model.eval()
    return log
