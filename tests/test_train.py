import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from stage_runner import run_stage

from radis.core.io import RadisError
from radis.toy.world import EXPLANATION_BREAK
from radis.train.loop import (
    IGNORE,
    Example,
    TrainConfig,
    collate,
    method_config,
    step_batches,
    tokenize_chat,
)
from radis.train.lora import train_lora

ROOT = Path(__file__).resolve().parents[1]


def test_label_mask_covers_exactly_the_completion(tokenizer):
    ex = tokenize_chat(tokenizer, "Translate from Aurish to English:\nrian.", "the king.", 512)
    prompt_len = len(
        tokenizer(
            "<|im_start|>user\nTranslate from Aurish to English:\nrian.<|im_end|>\n"
            "<|im_start|>assistant\n",
            add_special_tokens=False,
        )["input_ids"]
    )
    assert ex.labels[:prompt_len] == [IGNORE] * prompt_len
    assert IGNORE not in ex.labels[prompt_len:]
    assert ex.labels[prompt_len:] == ex.input_ids[prompt_len:]
    assert tokenizer.decode(ex.labels[prompt_len:]) == "the king.<|im_end|>\n"


def test_masked_suffix_is_read_but_not_learned(tokenizer):
    why = EXPLANATION_BREAK + "Explanation: 'rian' means 'king'."
    prompt, reply = "Translate:\nrian.", "the king."
    plain = tokenize_chat(tokenizer, prompt, reply + why, 512)
    masked = tokenize_chat(tokenizer, prompt, reply, 512, masked_suffix=why)
    assert masked.input_ids == plain.input_ids
    learned = [t for t in masked.labels if t != IGNORE]
    assert tokenizer.decode(learned) == "the king."
    n_prompt = plain.labels.count(IGNORE)
    assert masked.labels[n_prompt : n_prompt + len(learned)] == learned
    assert set(masked.labels[n_prompt + len(learned) :]) == {IGNORE}


def test_truncation_keeps_ids_and_labels_aligned(tokenizer):
    ex = tokenize_chat(tokenizer, "a b c d e", "f g h i j k", 9)
    assert len(ex.input_ids) == len(ex.labels) == 9


def test_collate_pads_right_and_masks_padding():
    batch = collate([Example([1, 2, 3], [IGNORE, 2, 3]), Example([4], [4])], pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 2, 3], [4, IGNORE, IGNORE]]


def test_step_batches_cover_each_example_once_in_sorted_micro_batches():
    lengths = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]
    cfg = TrainConfig(batch_size=4, micro_batch_size=2, seed=3, length_window=1)
    steps = step_batches(lengths, cfg, epoch=0)
    assert sorted(sum(len(mb) for mb in s) for s in steps) == [2, 4, 4]
    flat = [i for s in steps for mb in s for i in mb]
    assert sorted(flat) == list(range(10))
    for s in steps:
        order = [lengths[i] for mb in s for i in mb]
        assert order == sorted(order, reverse=True)
    assert steps == step_batches(lengths, cfg, epoch=0)
    assert steps != step_batches(lengths, cfg, epoch=1)


def test_lora_training_changes_only_adapter_weights(model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    rows = pd.DataFrame(
        {"prompt": ["Repeat the word 'cat' 2 times."] * 8, "completion": ["cat cat"] * 8}
    ).assign(masked_suffix="", group="")
    cfg = TrainConfig(
        lora={"r": 4, "lora_alpha": 8, "target_modules": "all-linear"},
        learning_rate=1.0e-2,
        epochs=3,
        batch_size=4,
        micro_batch_size=2,
    )
    log = train_lora(model_dir, rows, cfg, tmp_path / "adapter")
    assert len(log) == 6 and log[-1]["loss"] < log[0]["loss"]

    base = AutoModelForCausalLM.from_pretrained(model_dir)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    tuned = PeftModel.from_pretrained(base, tmp_path / "adapter")
    lora = {k: v for k, v in tuned.state_dict().items() if "lora_" in k}
    assert lora and any("lora_B" in k and v.abs().sum() > 0 for k, v in lora.items())
    modules = {k.split(".lora_")[0].split("base_model.model.")[1] for k in lora}
    assert any("mlp" in m for m in modules) and any("self_attn" in m for m in modules)
    for key, value in tuned.state_dict().items():
        if "lora_" not in key:
            name = key.replace("base_model.model.", "").replace(".base_layer", "")
            torch.testing.assert_close(value, before[name], rtol=0, atol=0)


def test_every_epochs_adapter_is_kept_beside_the_final_one(model_dir, tmp_path):
    """The adapter of each epoch's end lands in epochs/<k>; the last one is the final adapter,
    and a per-epoch adapter is the one training had then (epoch 1 differs from epoch 2)."""
    from safetensors.torch import load_file

    from radis.generate.serve import is_adapter
    from radis.train.lora import epoch_adapters

    rows = pd.DataFrame(
        {"prompt": ["Repeat the word 'cat' 2 times."] * 8, "completion": ["cat cat"] * 8}
    ).assign(masked_suffix="", group="")
    cfg = TrainConfig(
        lora={"r": 2, "lora_alpha": 4, "target_modules": "all-linear"},
        learning_rate=1.0e-2,
        epochs=2,
        batch_size=4,
        micro_batch_size=4,
    )
    out = tmp_path / "adapter"
    train_lora(model_dir, rows, cfg, out)
    epochs = epoch_adapters(out)
    assert [k for k, _ in epochs] == [1, 2] and all(is_adapter(p) for _, p in epochs)
    final = (out / "adapter_model.safetensors").read_bytes()
    assert (epochs[1][1] / "adapter_model.safetensors").read_bytes() == final
    first, last = (load_file(p / "adapter_model.safetensors") for _, p in epochs)
    assert any(not torch.equal(first[k], last[k]) for k in first)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["epochs"]


def test_length_window_cuts_padding():
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(10, 200, (2048,), generator=gen).tolist()

    def padding(window):
        cfg = TrainConfig(batch_size=32, micro_batch_size=8, length_window=window)
        steps = step_batches(lengths, cfg, epoch=0)
        assert sorted(i for s in steps for mb in s for i in mb) == list(range(len(lengths)))
        real = sum(lengths)
        padded = sum(len(mb) * max(lengths[i] for i in mb) for s in steps for mb in s)
        return 1 - real / padded

    assert padding(1) > 0.05
    assert padding(64) < 0.02


def test_gradient_accumulation_matches_one_big_batch(model_dir, tokenizer):
    from transformers import AutoModelForCausalLM

    from radis.train.loop import fit

    texts = [
        ("Repeat the word 'cat' 2 times.", "cat cat"),
        ("What is 2 + 3?", "The answer is 5."),
        ("hi", "hello there, friend"),
        ("Translate from Aurish to English:\nrian.", "the king."),
    ]
    examples = [tokenize_chat(tokenizer, p, c, 64) for p, c in texts]

    def one_step(micro):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(model_dir)
        cfg = TrainConfig(
            learning_rate=1.0e-2,
            epochs=1,
            batch_size=4,
            micro_batch_size=micro,
            warmup_ratio=0.0,
            lr_scheduler="constant",
        )
        log = fit(model, examples, cfg, tokenizer.pad_token_id)
        return log[0]["loss"], model.state_dict()

    loss_a, a = one_step(4)
    loss_b, b = one_step(1)
    assert loss_a == pytest.approx(loss_b, rel=1e-5)
    # Adam's first update is about lr * sign(grad): float noise on near-zero gradients moves a
    # few weights by ~1e-5; a wrong mask or loss scale moves many by ~lr = 1e-2.
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=2e-4)


def test_loss_on_kept_logits_equals_loss_on_all_logits(model_dir, tokenizer):
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM

    from radis.train.loop import token_loss_sum

    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    batch = collate(
        [
            tokenize_chat(tokenizer, "What is 2 + 3?", "5", 64),
            tokenize_chat(tokenizer, "hi", "hello there, friend", 64),
        ],
        pad_id=0,
    )
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    full = F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)),
        batch["labels"][:, 1:].reshape(-1),
        ignore_index=IGNORE,
        reduction="sum",
    )
    torch.testing.assert_close(token_loss_sum(model, batch), full[None], rtol=1e-5, atol=1e-5)


def test_micro_batch_tokens_caps_padded_tokens_per_forward_pass():
    lengths = [100, 90, 40, 30, 30, 20, 10, 10, 10, 5, 300, 12]
    cfg = TrainConfig(batch_size=12, micro_batch_size=4, micro_batch_tokens=120, length_window=1)
    (step,) = step_batches(lengths, cfg, epoch=0)
    assert [[lengths[i] for i in mb] for mb in step] == [
        [300], [100], [90], [40, 30, 30], [20, 12, 10, 10], [10, 5]
    ]  # fmt: skip
    uncapped = step_batches(lengths, dataclasses.replace(cfg, micro_batch_tokens=0), epoch=0)
    assert [len(mb) for mb in uncapped[0]] == [4, 4, 4]


SHARED = {"batch_size": 128, "micro_batch_size": 16, "lora": {"r": 16, "lora_alpha": 32}}


def test_a_method_overrides_train_keys_and_others_keep_the_shared_ones():
    seqkd = method_config(SHARED, {"batch_size": 256, "lora": {"r": 8}}, "seqkd", seed=3)
    assert seqkd.batch_size == 256 and seqkd.micro_batch_size == 16 and seqkd.seed == 3
    assert seqkd.lora == {"r": 8, "lora_alpha": 32}  # mappings merge key by key
    vanilla = method_config(SHARED, {}, "vanilla", seed=3)
    assert vanilla == TrainConfig(**SHARED, seed=3)
    assert SHARED["batch_size"] == 128 and SHARED["lora"]["r"] == 16  # not changed in place


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"batchsize": 256},
            "params.yaml: build.seqkd.train: unknown field(s) ['batchsize']; expected some of",
        ),
        ({"seed": 1}, "params.yaml: build.seqkd.train: unknown field(s) ['seed']"),
        (
            {"batch_size": 250},
            "params.yaml: train.micro_batch_size: 16 does not divide batch_size 250 "
            "(with the overrides of params.yaml: build.seqkd.train)",
        ),
        ([256], "params.yaml: build.seqkd.train: expected a mapping, got list"),
    ],
)
def test_bad_overrides_are_one_line_naming_the_field(overrides, message):
    with pytest.raises(RadisError) as err:
        method_config(SHARED, overrides, "seqkd", seed=0)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_train_stage_reads_the_methods_overrides(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["build"]["vanilla"]["train"] = {"batch_size": 250}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = run_stage(tmp_path, "stages.train", "vanilla")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: params.yaml: train.micro_batch_size: 16 does not divide batch_size 250 "
        "(with the overrides of params.yaml: build.vanilla.train)"
    ]


def test_train_stages_depend_on_their_methods_build_params():
    """A method's overrides live in build.<method>: only its train stage reruns when they change
    (DVC refuses a params key missing for some method, so they cannot have a section of their
    own without an entry for every method)."""
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["train"]
    assert stage["foreach"] == "${methods}"
    assert "build.${item}" in stage["do"]["params"] and "train" in stage["do"]["params"]
    paper = yaml.safe_load((ROOT / "configs/paper.yaml").read_text())
    assert paper["build"]["seqkd"]["train"] == {"batch_size": 2 * paper["train"]["batch_size"]}
    toy = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert toy["build"]["seqkd"]["train"] == {"batch_size": 2 * toy["train"]["batch_size"]}


ADAPTER_SCRIPT = """
import sys
import pandas as pd
from radis.train.lora import train_lora
from radis.train.loop import TrainConfig
rows = pd.DataFrame({"prompt": ["Say cat."] * 4, "completion": ["cat"] * 4})
rows = rows.assign(masked_suffix="", group="")
cfg = TrainConfig(lora={"r": 2, "lora_alpha": 4, "target_modules": "all-linear"}, epochs=1,
                  batch_size=4, micro_batch_size=4)
train_lora(sys.argv[1], rows, cfg, sys.argv[2])
"""


def test_adapter_bytes_do_not_depend_on_the_process(model_dir, tmp_path):
    """PEFT saves all-linear's modules in set order, which string hashing randomises."""
    root = Path(__file__).resolve().parents[1]
    outs = []
    for hash_seed in ("1", "2", "3"):
        out = tmp_path / f"adapter-{hash_seed}"
        env = os.environ | {"PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-c", ADAPTER_SCRIPT, str(model_dir), str(out)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        files = sorted(p for p in out.rglob("*") if p.is_file())
        outs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in files})
    assert "epochs/1/adapter_config.json" in outs[0]
    assert outs[0] == outs[1] == outs[2]
