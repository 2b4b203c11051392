"""A method's model as the evaluations load it: the backbone plus its adapter, or one merged copy
(params ``base.serve``); both give the same weights, predictions and scores."""

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file
from test_stages import ROOT, run_stage, set_param
from transformers import AutoModelForCausalLM

from radis.core.io import RadisError, read_table, write_table
from radis.core.params import BaseConfig, method_name
from radis.core.schemas import GENERAL, PREDICTION, TRANSLATION
from radis.generate.hf import HFBackend
from radis.generate.serve import Served, merged_copy, served
from radis.train.lora import sort_target_modules


def save_adapter(model_dir, out: Path, seed: int = 0) -> Path:
    """A LoRA adapter on ``model_dir`` whose B matrices are not zero, saved as training saves it."""
    torch.manual_seed(seed)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir), lora).save_pretrained(out)
    sort_target_modules(out / "adapter_config.json")
    return out


@pytest.fixture
def repo(tmp_path, model_dir, monkeypatch):
    """A working folder with the backbone in data/models/backbone and a LoRA method ``radis``."""
    (tmp_path / "data/models").mkdir(parents=True)
    (tmp_path / "data/models/backbone").symlink_to(model_dir)
    save_adapter(model_dir, tmp_path / "data/models/radis")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_merged_copy_has_the_weights_the_hf_backend_merges_in_memory(model_dir, tmp_path):
    adapter = save_adapter(model_dir, tmp_path / "adapter")
    merged = merged_copy(str(model_dir), str(adapter), "float32", tmp_path / "work")
    in_memory = HFBackend(model_dir, adapter=adapter).model.state_dict()
    saved = AutoModelForCausalLM.from_pretrained(merged).state_dict()
    assert saved.keys() == in_memory.keys()
    assert all(torch.equal(saved[k], in_memory[k]) for k in saved)  # bit for bit
    base = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    assert not torch.equal(
        saved["model.layers.0.mlp.up_proj.weight"], base["model.layers.0.mlp.up_proj.weight"]
    )
    assert (merged / "tokenizer.json").is_file()

    ids = HFBackend(merged).tokenizer(
        "<|im_start|>user\nthe red cat.<|im_end|>\n", return_tensors="pt"
    )
    with torch.no_grad():
        unmerged = PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(model_dir), adapter
        )
        logits = [
            m.eval()(**ids).logits for m in (unmerged, AutoModelForCausalLM.from_pretrained(merged))
        ]
    torch.testing.assert_close(logits[1], logits[0], rtol=1e-4, atol=1e-5)


def test_served_resolves_the_backbone_an_adapter_and_a_whole_model(repo, model_dir):
    b = BaseConfig()
    assert served(b, "backbone") == Served("data/models/backbone")
    assert served(b, "radis") == Served("data/models/backbone", "data/models/radis")
    full = repo / "data/models/sdrrl"  # finetuning: full saves a whole model: no adapter
    AutoModelForCausalLM.from_pretrained(model_dir).save_pretrained(full)
    assert served(b, "sdrrl") == Served("data/models/sdrrl")
    assert served(BaseConfig(serve="merged"), "sdrrl") == Served("data/models/sdrrl")
    assert served(b, "radis", model="elsewhere") == Served("elsewhere")  # the stages' --model
    with pytest.raises(RadisError, match=r"data/models/vanilla: model directory not found"):
        served(b, "vanilla")
    assert not (repo / "data/.work").exists()  # `adapter` writes nothing


def test_merged_keeps_a_copy_reused_until_the_adapter_changes(repo, model_dir, capsys):
    b = BaseConfig(serve="merged")
    first = served(b, "radis")
    assert Path(first.model).parent == Path("data/.work/merged") and not first.adapter
    assert served(b, "backbone") == Served("data/models/backbone")  # nothing to merge
    assert served(b, "radis") == first  # the next suite of the method reuses it
    assert "reusing the merged model" in capsys.readouterr().err
    assert served(BaseConfig(serve="merged", dtype="bfloat16"), "radis") != first

    save_adapter(model_dir, repo / "data/models/vanilla", seed=1)
    other = served(b, "vanilla")
    assert sorted(Path("data/.work/merged").iterdir()) == [Path(other.model)]  # one at a time
    weights = load_file(Path(other.model) / "model.safetensors")
    save_adapter(model_dir, repo / "data/models/vanilla", seed=2)  # retrained
    retrained = served(b, "vanilla")
    assert retrained != other
    changed = load_file(Path(retrained.model) / "model.safetensors")
    assert not torch.equal(
        weights["model.layers.0.mlp.up_proj.weight"], changed["model.layers.0.mlp.up_proj.weight"]
    )


@pytest.mark.slow
def test_evaluate_gives_the_same_predictions_and_scores_either_way(repo, world):
    """The required equality: one `evaluate` stage run per choice of base.serve, same bytes."""
    write_table(world["parallel"], repo / "data/fetch/translation.parquet", TRANSLATION)
    write_table(world["general"], repo / "data/fetch/general.parquet", GENERAL)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["methods"] = ["radis"]
    params["evaluate"]["generation"]["max_new_tokens"] = 12
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    runs = {}
    for serve in ("adapter", "merged"):
        set_param(repo, "base.serve", serve)
        result = run_stage(repo, "stages.evaluate", "radis")
        assert result.returncode == 0, result.stderr
        preds = read_table(repo / "data/eval/radis/predictions.parquet", PREDICTION)
        runs[serve] = preds, json.loads((repo / "metrics/eval/radis/evaluate.json").read_text())
        merged = list((repo / "data/.work/merged").glob("*")) if serve == "merged" else []
        assert len(merged) == (serve == "merged")
    pd.testing.assert_frame_equal(runs["adapter"][0], runs["merged"][0])
    assert runs["adapter"][1] == runs["merged"][1]
    assert len(runs["adapter"][0]) == 2 * 2 * 4 + 3 * 4  # every test sentence and general item


def test_no_method_may_be_called_backbone():
    """Its model would be data/models/backbone, the backbone's folder."""
    with pytest.raises(RadisError, match="'backbone' names the backbone"):
        method_name(["vanilla", "backbone"], "backbone")


def test_merged_copies_keeps_the_most_recently_used(repo, model_dir, capsys):
    save_adapter(model_dir, repo / "data/models/vanilla", seed=1)
    save_adapter(model_dir, repo / "data/models/sft", seed=2)
    b = BaseConfig(serve="merged", merged_copies=2)
    radis, vanilla = served(b, "radis"), served(b, "vanilla")
    assert served(b, "radis") == radis  # used last: vanilla is now the oldest
    (Path("data/.work/merged") / ".leftover.tmp-1").mkdir()  # a killed merge's
    sft = served(b, "sft")
    kept = sorted(Path("data/.work/merged").iterdir())
    assert kept == sorted([Path(radis.model), Path(sft.model)])
    capsys.readouterr()
    assert served(b, "vanilla") == vanilla  # merged again, under the same name
    assert "merged data/models/vanilla" in capsys.readouterr().err
    with pytest.raises(ValueError, match="merged_copies: must be > 0"):
        BaseConfig(merged_copies=0)
