"""Early stopping: held-out loss after every epoch, stop on patience, keep the best epoch."""

import pytest
import torch

from radis.core.io import RadisError
from radis.train.loop import (
    EarlyStopping,
    LossModel,
    TrainConfig,
    fit,
    hold_out,
    named_trainable,
    stale_epochs,
    tokenize_chat,
    validation_loss,
)
from radis.train.lora import load_lora


def config(**kw) -> TrainConfig:
    base = dict(
        lora={"r": 4, "lora_alpha": 8, "target_modules": "all-linear"},
        learning_rate=3.0e-2,
        lr_scheduler="constant",
        warmup_ratio=0.0,
        epochs=4,
        batch_size=4,
        micro_batch_size=2,
    )
    return TrainConfig(**base | kw)


def chats(tokenizer, word: str, n: int):
    prompt = "Repeat the word 'cat' 2 times."
    return [tokenize_chat(tokenizer, prompt, f"{word} {word}", 64) for _ in range(n)]


def snapshot(model) -> dict:
    return {n: p.detach().clone() for n, p in named_trainable(model)}


def test_stale_epochs_counts_epochs_since_the_lowest_val_loss():
    assert stale_epochs([{"loss": 1.0}]) == 0
    log = [{"val_loss": 3.0}, {"loss": 1.0}, {"val_loss": 2.0}, {"val_loss": 2.5}]
    assert stale_epochs(log) == 1
    assert stale_epochs(log + [{"val_loss": 2.0}]) == 2  # a tie is no improvement


def test_hold_out_is_a_seeded_disjoint_sample(tokenizer):
    exs = [tokenize_chat(tokenizer, f"Say {i}.", str(i), 32) for i in range(20)]
    cfg = config(early_stopping=EarlyStopping(validation_rows=5))
    train, held = hold_out(exs, cfg)
    assert len(train) == 15 and len(held) == 5
    assert {id(e) for e in train}.isdisjoint({id(e) for e in held})
    assert [e.input_ids for e in hold_out(exs, cfg)[1]] == [e.input_ids for e in held]
    other = hold_out(exs, config(seed=1, early_stopping=EarlyStopping(validation_rows=5)))[1]
    assert [e.input_ids for e in other] != [e.input_ids for e in held]
    assert hold_out(exs, config()) == (exs, [])
    with pytest.raises(RadisError, match="validation_rows: 20 held-out rows"):
        hold_out(exs, config(early_stopping=EarlyStopping(validation_rows=20)))


def test_rising_val_loss_stops_training_and_restores_the_best_epoch(model_dir, tokenizer):
    # Training teaches "cat cat"; the held-out rows answer "dog dog": their loss rises
    # once the model has learnt "cat", so training stops and the best epoch comes back.
    cfg = config(early_stopping=EarlyStopping(validation_rows=4, patience=1))
    _, model = load_lora(model_dir, cfg)
    train, held = chats(tokenizer, "cat", 8), chats(tokenizer, "dog", 4)
    weights = {}
    log = fit(
        model,
        train,
        cfg,
        0,
        on_log=lambda r: weights.update({r["step"]: snapshot(model)}),
        validation=held,
    )
    vals = [(r["epoch"], r["val_loss"]) for r in log if "val_loss" in r]
    assert len(vals) == log[-1]["epoch"] < cfg.epochs  # stopped early, one value per epoch
    best_epoch = min(vals, key=lambda v: v[1])[0]
    assert best_epoch == len(vals) - 1  # patience 1: stopped one epoch after the best
    best_step = max(r["step"] for r in log if r["epoch"] == best_epoch)
    for name, p in named_trainable(model):
        torch.testing.assert_close(p, weights[best_step][name], rtol=0, atol=0)
    again = validation_loss(LossModel(model, 1, False), held, 0, 1, cfg)
    assert again == pytest.approx(dict(vals)[best_epoch], abs=1e-5)


def test_falling_val_loss_trains_every_epoch_and_keeps_the_last(model_dir, tokenizer):
    cfg = config(learning_rate=3.0e-3, early_stopping=EarlyStopping(validation_rows=4, patience=1))
    _, model = load_lora(model_dir, cfg)
    log = fit(model, chats(tokenizer, "cat", 8), cfg, 0, validation=chats(tokenizer, "cat", 4))
    vals = [r["val_loss"] for r in log if "val_loss" in r]
    assert len(vals) == cfg.epochs and vals == sorted(vals, reverse=True)
    assert len(log) == cfg.epochs * 2


def test_a_resumed_run_restores_the_best_weights_from_its_checkpoint(
    model_dir, tokenizer, tmp_path
):
    cfg = config(checkpoint_every=1, early_stopping=EarlyStopping(validation_rows=4, patience=1))
    train, held = chats(tokenizer, "cat", 8), chats(tokenizer, "dog", 4)
    _, model = load_lora(model_dir, cfg)
    log = fit(model, train, cfg, 0, checkpoint=tmp_path / "ckpt.pt", validation=held)
    best = snapshot(model)
    _, fresh = load_lora(model_dir, cfg)  # a new process: everything from the checkpoint
    resumed = fit(fresh, train, cfg, 0, checkpoint=tmp_path / "ckpt.pt", validation=held)
    assert resumed == log
    for name, p in named_trainable(fresh):
        torch.testing.assert_close(p, best[name], rtol=0, atol=0)
