"""Gradient similarity (stage gradcos): the sets, the per-layer gradients and the stage."""

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from stage_runner import assert_one_line_error, run_stage

from radis.analysis.gradcos import (
    GradcosConfig,
    checkpoints,
    cosines,
    general_set,
    gradient,
    layer_groups,
    metrics,
)
from radis.analysis.gradsets import (
    KD_SUFFIX,
    has_regulariser,
    mt_and_reg,
    own_answers,
    tokenize,
    train_sample,
)
from radis.core.io import RadisError, read_table, write_table
from radis.core.schemas import GRADCOS, PREDICTION, SFT, TRANSLATION
from radis.data.build import MethodConfig, build
from radis.data.rationales import with_instructions
from radis.generate.backend import Completion
from radis.train.loop import IGNORE, TrainConfig
from radis.train.lora import load_lora

ROOT = Path(__file__).resolve().parents[1]
LORA = {"r": 2, "lora_alpha": 4, "target_modules": "all-linear"}


def train_pairs(world) -> pd.DataFrame:
    rows = pd.DataFrame(world["parallel"])
    return rows[rows.split == "train"].reset_index(drop=True)


def radis_rows(world, **params) -> pd.DataFrame:
    """RaDis's training set with the toy world's glosses as rationales."""
    train = train_pairs(world)
    glosses = {g["id"]: g["rationale"] for g in world["glosses"]}
    rat = with_instructions(train, 0).assign(rationale=train.id.map(glosses), finish_reason="stop")
    return build(MethodConfig("radis", **params), {"train": train, "rationales": rat}, 0)


def seqkd_rows(world, own: list[str] | None = None) -> pd.DataFrame:
    """Seq-KD's set; the backbone's y' is ``own`` (default: the reference itself)."""
    train = train_pairs(world)
    own = train.reference if own is None else own
    selfgen = pd.DataFrame({"id": train.id, "response": own, "finish_reason": "stop"})
    return build(MethodConfig("seqkd"), {"train": train, "translate": selfgen}, 0)


@pytest.fixture(scope="module")
def lora(model_dir):
    """The tiny model with an adapter whose B is random (A and B both get gradients)."""
    cfg = TrainConfig(lora=LORA, max_length=128)
    tokenizer, model = load_lora(model_dir, cfg)
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.1)
    return tokenizer, model.eval(), cfg


def pad_of(tokenizer):
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def grad(lora, rows, micro=4):
    tokenizer, model, cfg = lora
    examples = tokenize(tokenizer, rows, cfg.max_length)
    return gradient(model, examples, cfg, GradcosConfig(micro_batch_size=micro), pad_of(tokenizer))


# --- the sets ---------------------------------------------------------------------------------


def test_only_methods_with_an_extra_term_have_a_regulariser():
    assert has_regulariser(MethodConfig("radis")) and has_regulariser(MethodConfig("seqkd"))
    assert has_regulariser(MethodConfig("multitask"))
    assert not has_regulariser(MethodConfig("radis", rationale_loss=False))  # the masked control
    assert not has_regulariser(MethodConfig("vanilla")) and not has_regulariser(
        MethodConfig("sdft")
    )
    assert mt_and_reg(pd.DataFrame(), MethodConfig("vanilla"), pd.DataFrame(), 2, 0, "f") is None


def test_radis_rows_split_into_reference_and_rationale_tokens(world, tokenizer):
    rows = radis_rows(world)
    translation = pd.DataFrame(world["parallel"])
    mt, reg = mt_and_reg(rows, MethodConfig("radis"), translation, 3, 0, "radis.parquet")
    assert len(mt) == len(reg) == 3 * 4  # four directions
    assert mt.id.tolist() == reg.id.tolist()
    refs = dict(zip(translation.id, translation.reference))
    whole = tokenize(
        tokenizer, train_sample(rows.set_index("id").loc[mt.id].reset_index(), 0, 0), 512
    )
    for m, r, w, row_id in zip(
        tokenize(tokenizer, mt, 512), tokenize(tokenizer, reg, 512), whole, mt.id
    ):
        assert m.input_ids == r.input_ids == w.input_ids
        learned_mt = [i for i, t in enumerate(m.labels) if t != IGNORE]
        learned_reg = [i for i, t in enumerate(r.labels) if t != IGNORE]
        assert not set(learned_mt) & set(learned_reg)  # each token in one term
        assert sorted(learned_mt + learned_reg) == [
            i for i, t in enumerate(w.labels) if t != IGNORE
        ]
        assert tokenizer.decode([m.labels[i] for i in learned_mt]) == refs[row_id]
        assert learned_mt < learned_reg  # the rationale follows the reference


def test_the_same_seed_samples_the_same_rows_for_every_method(world):
    translation = pd.DataFrame(world["parallel"])
    radis_mt, _ = mt_and_reg(radis_rows(world), MethodConfig("radis"), translation, 3, 0, "f")
    kd_mt, kd_reg = mt_and_reg(seqkd_rows(world), MethodConfig("seqkd"), translation, 3, 0, "f")
    assert radis_mt.id.tolist() == kd_mt.id.tolist()
    assert kd_reg.id.tolist() == [i + KD_SUFFIX for i in kd_mt.id]
    other, _ = mt_and_reg(radis_rows(world), MethodConfig("radis"), translation, 3, 1, "f")
    assert other.id.tolist() != radis_mt.id.tolist()


def test_multitask_compares_translation_rows_with_as_many_instruction_rows(world):
    train, instructions = train_pairs(world), pd.DataFrame(world["instructions"])
    rows = build(MethodConfig("multitask"), {"train": train, "instructions": instructions}, 0)
    translation = pd.DataFrame(world["parallel"])
    mt, reg = mt_and_reg(rows, MethodConfig("multitask"), translation, 3, 0, "f")
    assert len(mt) == len(reg) == 12
    assert set(mt.id) <= set(train.id) and set(reg.id) <= set(instructions.id)


def test_a_radis_row_that_does_not_start_with_its_reference_is_one_line(world):
    rows = radis_rows(world)
    rows.loc[0, "completion"] = "something else"
    translation = pd.DataFrame(world["parallel"])
    with pytest.raises(RadisError, match=r"radis.parquet: row '.*': its completion does not start"):
        mt_and_reg(rows, MethodConfig("radis"), translation, 3, 0, "radis.parquet")


def test_general_answers_are_the_backbones_and_a_cut_one_learns_no_end_of_turn(world, tokenizer):
    general = pd.DataFrame(world["general"])
    preds = pd.DataFrame(
        {
            "id": ["t1", *general.id],
            "task": ["translation", *general.task],
            "prompt": ["Translate x", *general.prompt],
            "output": ["x", *general.answer],
            "finish_reason": ["stop", "length", *["stop"] * (len(general) - 1)],
        }
    )
    chats = own_answers(preds)
    assert chats.id.tolist() == general.id.tolist()  # the translation left out
    assert chats.stop.tolist() == [False] + [True] * (len(general) - 1)
    cut, done = tokenize(tokenizer, chats.head(2), 512)
    learned = [t for t in cut.labels if t != IGNORE]
    assert tokenizer.decode(learned) == general.answer[0]  # the reply, no end-of-turn
    whole = [t for t in done.labels if t != IGNORE]
    assert tokenizer.decode(whole) == general.answer[1] + "<|im_end|>\n"


def test_without_answers_in_the_evaluation_the_backbone_answers_instructions(world, tokenizer):
    class Backend:  # a stand-in generation backend: answers every prompt, the second cut
        def __init__(self):
            self.tokenizer, self.inner, self.cleaned = tokenizer, object(), False

        def generate(self, prompts, cfg):
            self.prompts = prompts
            return [
                Completion(f"answer {i}", "length" if i == 1 else "stop", 1, 1)
                for i in range(len(prompts))
            ]

        def clean(self):
            self.cleaned = True

    backend = Backend()
    instructions = pd.DataFrame(world["instructions"])
    empty = pd.DataFrame(columns=list(PREDICTION.fields))
    chats = general_set(empty, instructions, GradcosConfig(general_rows=5), 0, lambda: backend)
    assert len(backend.prompts) == 5 and backend.cleaned and backend.inner is None
    assert chats.completion.tolist() == [f"answer {i}" for i in range(5)]
    assert chats.stop.tolist() == [True, False, True, True, True]
    assert set(chats.prompt) <= set(instructions.prompt)


# --- the gradients ----------------------------------------------------------------------------


def test_every_lora_parameter_is_in_exactly_one_layer(lora):
    _, model, _ = lora
    groups = layer_groups(model)
    names = [n for names in groups.values() for n in names]
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted(names) == sorted(trainable) and len(set(names)) == len(names)
    assert list(groups) == list(range(model.config.num_hidden_layers))
    for layer, members in groups.items():
        assert all(f"layers.{layer}." in n for n in members)
        assert {"lora_A" in n for n in members} == {True, False}  # A and B of every module


def test_a_loss_with_itself_has_cosine_one_in_every_layer(lora, world):
    rows = train_sample(radis_rows(world).head(6), 0, 0)
    g = grad(lora, rows)
    assert all(
        v == pytest.approx(1.0, abs=1e-9) for v in cosines(g, g, layer_groups(lora[1])).values()
    )
    # summed over micro-batches of one row or of six: the same gradient
    single = grad(lora, rows, micro=1)
    for name in g:
        torch.testing.assert_close(single[name], g[name], rtol=1e-4, atol=1e-7)


def test_mt_and_regulariser_add_up_to_the_training_loss(lora, world):
    """Token means: n_mt * grad(mt) + n_reg * grad(reg) = n_all * grad(rows as trained)."""
    tokenizer, model, cfg = lora
    rows = radis_rows(world)
    translation = pd.DataFrame(world["parallel"])
    mt, reg = mt_and_reg(rows, MethodConfig("radis"), translation, 1, 0, "f")
    whole = train_sample(rows.set_index("id").loc[mt.id].reset_index(), 0, 0)
    count = {
        k: sum(sum(t != IGNORE for t in e.labels[1:]) for e in tokenize(tokenizer, v, 128))
        for k, v in [("mt", mt), ("reg", reg), ("all", whole)]
    }
    g_mt, g_reg, g_all = grad(lora, mt), grad(lora, reg), grad(lora, whole)
    for name in g_all:
        summed = count["mt"] * g_mt[name] + count["reg"] * g_reg[name]
        torch.testing.assert_close(summed, count["all"] * g_all[name], rtol=1e-4, atol=1e-6)


def test_a_regulariser_equal_to_the_reference_has_cosine_one(lora, world):
    """Seq-KD with y' = y: the two terms are the same loss; with another y' they differ."""
    translation = pd.DataFrame(world["parallel"])
    mt, reg = mt_and_reg(seqkd_rows(world), MethodConfig("seqkd"), translation, 2, 0, "f")
    same = cosines(grad(lora, mt), grad(lora, reg), layer_groups(lora[1]))
    assert all(v == pytest.approx(1.0, abs=1e-6) for v in same.values())
    train = train_pairs(world)
    other = seqkd_rows(world, own=["the bird sings loudly ."] * len(train))
    mt, reg = mt_and_reg(other, MethodConfig("seqkd"), translation, 2, 0, "f")
    differ = cosines(grad(lora, mt), grad(lora, reg), layer_groups(lora[1]))
    assert all(v < 0.99 for v in differ.values())


def test_checkpoints_without_epoch_adapters_are_the_final_model(tmp_path):
    whole = tmp_path / "sdrrl"  # finetuning: full saves a whole model, no epochs/
    whole.mkdir()
    (whole / "config.json").write_text("{}")
    assert checkpoints(whole) == [("backbone", None), ("final", whole)]
    for k in (2, 10, 1):  # numeric order, not the names'
        (whole / "epochs" / str(k)).mkdir(parents=True)
    names = [name for name, _ in checkpoints(whole)]
    assert names == ["backbone", "epoch1", "epoch2", "epoch10"]


def test_metrics_count_positive_layers_per_checkpoint():
    table = pd.DataFrame(
        {
            "checkpoint": ["backbone"] * 3 + ["epoch1"] * 3,
            "pair": "mt_vs_reg",
            "layer": [0, 1, 2] * 2,
            "cosine": [0.5, -0.1, 0.3, -0.2, -0.4, math.nan],
        }
    )
    flat = metrics(table, {"mt": 4})
    assert flat["rows.mt"] == 4
    assert flat["mt_vs_reg.backbone.mean"] == pytest.approx(0.2333, abs=1e-4)
    assert flat["mt_vs_reg.backbone.positive_layers"] == 2
    assert flat["mt_vs_reg.epoch1.mean"] == pytest.approx(-0.3)
    assert flat["mt_vs_reg.epoch1.positive_layers"] == 0 and flat["mt_vs_reg.epoch1.layers"] == 3


# --- the stage --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory, model_dir, world):
    """A working folder with the inputs of gradcos@radis and radis's adapter of two epochs."""
    root = tmp_path_factory.mktemp("gradcos")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train"] |= dict(lora=LORA, epochs=2, batch_size=16, micro_batch_size=16, max_length=128)
    params["gradcos"] |= dict(rows_per_direction=2, train_rows=16, micro_batch_size=8)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    (root / "data/models").mkdir(parents=True)
    (root / "data/models/backbone").symlink_to(model_dir)
    write_table(world["parallel"], root / "data/fetch/translation.parquet", TRANSLATION)
    write_table(world["instructions"], root / "data/fetch/instructions.parquet", SFT)
    from radis.core.schemas import TRAIN_SET

    write_table(radis_rows(world).head(32), root / "data/build/radis.parquet", TRAIN_SET)
    general = pd.DataFrame(world["general"])
    preds = general.assign(
        output=general.answer,
        hypothesis=general.answer,
        reference=general.answer,
        score=1.0,
        finish_reason="stop",
    )
    write_table(preds, root / "data/eval/backbone/predictions.parquet", PREDICTION)
    result = run_stage(root, "stages.train", "radis")
    assert result.returncode == 0, result.stderr
    return root


def test_the_stage_writes_cosines_per_checkpoint_pair_and_layer(trained):
    assert [c for c, _ in checkpoints(trained / "data/models/radis")] == [
        "backbone",
        "epoch1",
        "epoch2",
    ]
    result = run_stage(trained, "stages.gradcos", "radis")
    assert result.returncode == 0, result.stderr
    table = read_table(trained / "data/analysis/gradcos/radis.parquet", GRADCOS)
    assert table.checkpoint.unique().tolist() == ["backbone", "epoch1", "epoch2"]
    assert table.pair.unique().tolist() == ["mt_vs_reg", "general_vs_train"]
    assert sorted(table.layer.unique()) == [0, 1]  # the tiny model's two layers
    assert len(table) == 3 * 2 * 2 and table.cosine.between(-1, 1).all()
    flat = json.loads((trained / "metrics/gradcos/radis.json").read_text())
    assert flat["rows.mt"] == flat["rows.reg"] > 0 and flat["rows.train"] == 16
    for pair in ("mt_vs_reg", "general_vs_train"):
        for name in ("backbone", "epoch1", "epoch2"):
            assert flat[f"{pair}.{name}.layers"] == 2
            assert 0 <= flat[f"{pair}.{name}.positive_layers"] <= 2
    assert (trained / "metrics/gradcos/radis.png").read_bytes()[:4] == b"\x89PNG"
    before = (trained / "data/analysis/gradcos/radis.parquet").read_bytes()
    assert run_stage(trained, "stages.gradcos", "radis").returncode == 0
    assert (trained / "data/analysis/gradcos/radis.parquet").read_bytes() == before


def test_the_stage_refuses_an_unknown_method(trained):
    assert_one_line_error(
        run_stage(trained, "stages.gradcos", "nope"), "methods: 'nope' is not listed"
    )


def test_the_stage_names_a_missing_column(trained, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(trained, work, symlinks=True)
    rows = pd.read_parquet(work / "data/build/radis.parquet").drop(columns="masked_suffix")
    rows.to_parquet(work / "data/build/radis.parquet")
    result = run_stage(work, "stages.gradcos", "radis")
    assert_one_line_error(result, "data/build/radis.parquet: missing column 'masked_suffix'")


def test_radis_without_any_rationale_leaves_the_pair_out_with_a_warning(world, capsys):
    train = train_pairs(world)
    rat = with_instructions(train, 0).assign(rationale="", finish_reason="stop")
    rows = build(MethodConfig("radis"), {"train": train, "rationales": rat}, 0)
    translation = pd.DataFrame(world["parallel"])
    assert mt_and_reg(rows, MethodConfig("radis"), translation, 3, 0, "radis.parquet") is None
    assert "warning: radis.parquet: no translation row with a radis" in capsys.readouterr().err
