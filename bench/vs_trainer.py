"""Training throughput of radis's loop against a plain HF ``Trainer`` in one process.

Usage, from the repository root:
    .venv/bin/python bench/vs_trainer.py [--method radis] [--steps 20]

Same LoRA model, data, hyperparameters (the ``train`` params: effective batch, micro-batch,
learning rate, schedule) and one epoch over the same sampled rows; the Trainer pads each
micro-batch to its longest example (``DataCollatorForSeq2Seq``, its default behaviour for
variable-length SFT). Prints real (non-padding) tokens/s of each and their ratio.
"""

import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import load_rows, setup  # noqa: E402

from radis.lora import load_base, lora_config, train_lora  # noqa: E402
from radis.train import TrainConfig, tokenize_chat  # noqa: E402


def run_trainer(backbone: Path, rows, cfg: TrainConfig, out: Path) -> tuple[float, int, int]:
    """Train with transformers' Trainer; return seconds, real tokens and padded tokens."""
    from datasets import Dataset
    from peft import get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

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
    collator = DataCollatorForSeq2Seq(tokenizer, padding="longest", label_pad_token_id=-100)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collator)
    padded = sum(b["input_ids"].numel() for b in trainer.get_train_dataloader())
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start, sum(len(e.input_ids) for e in examples), padded


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        args, cfg, backbone = setup(tmp)
        rows = load_rows(args.method, args.steps * cfg.batch_size)
        log = train_lora(backbone, rows, cfg, Path(tmp) / "ours")
        ours_s = log[-1]["seconds"]  # the training loop alone, as timed for the Trainer
        ours_real = sum(r["tokens"] * (1 - r["padding"]) for r in log)
        ours_pad = 1 - ours_real / sum(r["tokens"] for r in log)
        hf_s, hf_real, hf_padded = run_trainer(backbone, rows, cfg, Path(tmp) / "hf")
    ours_tps, hf_tps = ours_real / ours_s, hf_real / hf_s
    print(f"rows: {len(rows)}  batch: {cfg.batch_size}  micro-batch: {cfg.micro_batch_size}")
    hf_pad = 1 - hf_real / hf_padded
    print(f"radis   : {ours_tps:8.0f} real tokens/s  padding {ours_pad:6.1%}  ({ours_s:.1f} s)")
    print(f"Trainer : {hf_tps:8.0f} real tokens/s  padding {hf_pad:6.1%}  ({hf_s:.1f} s)")
    print(f"ratio radis / Trainer: {ours_tps / hf_tps:.2f}x")


if __name__ == "__main__":
    main()
