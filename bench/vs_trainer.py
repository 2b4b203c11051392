"""Training throughput of radis's loop against a plain HF ``Trainer`` in one process.

Usage, from the repository root:
    .venv/bin/python bench/vs_trainer.py [--method radis] [--steps 20] [--threads 2]
        [--micro-batch N] [--rounds 1]

Same LoRA model, data, hyperparameters (the ``train`` params: effective batch, micro-batch,
learning rate, schedule) and one epoch over the same sampled rows; the Trainer pads each
micro-batch to its longest example (``DataCollatorForSeq2Seq``, its default behaviour for
variable-length SFT). Prints real (non-padding) tokens/s of each and their ratio. With
``--rounds N`` each loop runs N times, the order alternating (radis first, then the Trainer
first, ...), so a load that drifts over the run falls on both. Each loop first runs two untimed
steps, so the process's first-run costs (lazy initialisation, allocator growth) fall on neither.
On a CPU shared with other work, wall time counts the time the process waits for a core; the
real tokens per process CPU second over steps 2.. (printed too) does not, and with
``--threads 1`` it is the steadier figure. radis's loop trains through its fused LoRA layers
(:mod:`radis.train.kernel`), the Trainer through PEFT's.
"""

import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import load_rows, setup  # noqa: E402

from radis.train.loop import TrainConfig, tokenize_chat  # noqa: E402
from radis.train.lora import load_base, lora_config, train_lora  # noqa: E402


class Run(NamedTuple):
    """One training run of a loop.

    Attributes:
        seconds: Wall seconds of the training loop.
        real: Real (non-padding) tokens trained on.
        processed: Tokens processed, padding included.
        cpu_seconds: Process CPU seconds of steps 2.. (after the first step's warm-up).
        cpu_real: Real tokens of steps 2...
    """

    seconds: float
    real: int
    processed: int
    cpu_seconds: float
    cpu_real: int


def run_trainer(backbone: Path, rows, cfg: TrainConfig, out: Path) -> Run:
    """Train with transformers' Trainer."""
    from datasets import Dataset
    from peft import get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments

    tokenizer, model = load_base(backbone, cfg.dtype)
    torch.manual_seed(cfg.seed)
    model = get_peft_model(model, lora_config(cfg.lora))
    examples = [
        tokenize_chat(tokenizer, p, c, cfg.max_length) for p, c in zip(rows.prompt, rows.completion)
    ]
    data = Dataset.from_list([{"input_ids": e.input_ids, "labels": e.labels} for e in examples])
    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=cfg.batch_size // cfg.micro_batch_size,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float < 1 is a ratio in transformers 5
        num_train_epochs=1,
        max_grad_norm=cfg.max_grad_norm,
        weight_decay=cfg.weight_decay,
        logging_steps=10**6,
        save_strategy="no",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        seed=cfg.seed,
    )
    pad = DataCollatorForSeq2Seq(tokenizer, padding="longest", label_pad_token_id=-100)
    collated: list[int] = []  # real tokens of each micro-batch, in the order they are made

    def collator(features):
        collated.append(sum(len(f["input_ids"]) for f in features))
        return pad(features)

    cpu: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_end(self, *_, **__):
            cpu.append(time.process_time())

    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=data,
        data_collator=collator,
        callbacks=[StepClock()],
    )
    padded = sum(b["input_ids"].numel() for b in trainer.get_train_dataloader())
    collated.clear()
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    first = args.gradient_accumulation_steps  # micro-batches of step 1
    real = sum(len(e.input_ids) for e in examples)
    return Run(seconds, real, padded, cpu[-1] - cpu[0], sum(collated[first:]))


def run_ours(backbone: Path, rows, cfg: TrainConfig, out: Path) -> Run:
    """Train with radis's loop (seconds: the loop alone, as ``fit`` logs them)."""
    cpu: list[float] = []
    log = train_lora(backbone, rows, cfg, out, on_log=lambda _: cpu.append(time.process_time()))
    real = [r["tokens"] * (1 - r["padding"]) for r in log]
    processed = sum(r["tokens"] for r in log)
    return Run(
        log[-1]["seconds"], round(sum(real)), processed, cpu[-1] - cpu[0], round(sum(real[1:]))
    )


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    runs: dict[str, list[Run]] = {"radis": [], "Trainer": []}
    loops = {"radis": run_ours, "Trainer": run_trainer}
    with tempfile.TemporaryDirectory() as tmp:
        args, cfg, backbone = setup(tmp)
        rows = load_rows(args.method, args.steps * cfg.batch_size)
        for name, loop in loops.items():  # untimed: the process's first-run costs hit neither
            loop(backbone, rows.head(2 * cfg.batch_size), cfg, Path(tmp) / f"warm-{name}")
        for r in range(args.rounds):
            order = ["radis", "Trainer"] if r % 2 == 0 else ["Trainer", "radis"]
            for name in order:
                runs[name].append(loops[name](backbone, rows, cfg, Path(tmp) / f"{name}{r}"))
    print(
        f"rows: {len(rows)}  batch: {cfg.batch_size}  micro-batch: {cfg.micro_batch_size}  "
        f"threads: {args.threads}  rounds: {args.rounds} (order alternates)"
    )
    for r in range(args.rounds):
        wall, cpu = {}, {}
        for name in runs:
            run = runs[name][r]
            wall[name], cpu[name] = run.real / run.seconds, run.cpu_real / run.cpu_seconds
            print(
                f"round {r + 1} {name:8s}: {wall[name]:8.0f} real tokens/s  "
                f"padding {1 - run.real / run.processed:6.1%}  ({run.seconds:.1f} s)  "
                f"{cpu[name]:8.0f} real tokens/CPU-s (steps 2..)"
            )
        print(
            f"round {r + 1} ratio radis / Trainer: {wall['radis'] / wall['Trainer']:.2f}x "
            f"(per CPU second: {cpu['radis'] / cpu['Trainer']:.2f}x)"
        )
    pooled = {n: sum(x.real for x in v) / sum(x.seconds for x in v) for n, v in runs.items()}
    pooled_cpu = {
        n: sum(x.cpu_real for x in v) / sum(x.cpu_seconds for x in v) for n, v in runs.items()
    }
    print(
        f"ratio radis / Trainer (all rounds): {pooled['radis'] / pooled['Trainer']:.2f}x "
        f"(per CPU second: {pooled_cpu['radis'] / pooled_cpu['Trainer']:.2f}x)"
    )
    print(f"peak RSS of the process (both loops): {peak_rss_gib():.2f} GiB")


if __name__ == "__main__":
    main()
