"""SDRRL's paper setup (configs/sdrrl.yaml): every section parses, with the paper's numbers."""

import json

import pytest
import yaml
from test_paper import SECTIONS, SEEDED

from radis.core.config import parse, section
from radis.core.io import RadisError
from radis.core.templates import LANGUAGES, PROMPT_FORMATS
from radis.data.build import RECIPES, recipe_config
from radis.evaluate.sdrrl_table import by_language, main, tables
from radis.sdrrl.recipes import SdrrlMethodConfig
from radis.train.loop import method_config

#: SDRRL's recipe and its baselines'.
SDRRL_RECIPES = {name for name, recipe in RECIPES.items() if recipe.params is SdrrlMethodConfig}

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
SDRRL = ROOT / "configs" / "sdrrl.yaml"
#: The paper's 14 target languages (Sec. 4.1), in its tables' order.
PAPER_LANGUAGES = "cs da uk bg fi hu nb id ja ko pt sl vi pl".split()


def sdrrl() -> dict:
    return yaml.safe_load(SDRRL.read_text())


def parsed(params: dict, dotted: str):
    extra = {"seed": params["base"]["seed"]} if dotted in SEEDED else {}
    return parse(SECTIONS[dotted], section(params, dotted) | extra, f"sdrrl.yaml: {dotted}")


def test_every_section_parses_through_its_config():
    params = sdrrl()
    assert set(params) == {d.split(".")[0] for d in SECTIONS} | {"methods", "build", "suites"}
    for dotted in SECTIONS:
        parsed(params, dotted)
    for method in params["methods"]:
        cfg = recipe_config(params["build"][method], f"sdrrl.yaml: build.{method}")
        assert isinstance(cfg, SdrrlMethodConfig)
    assert set(params["suites"]["multilingual"]) == {"backbone", *params["methods"]}


def test_the_papers_numbers():
    params = sdrrl()
    b = parsed(params, "base")
    assert b.backbone == "meta-llama/Llama-2-7b-hf" and b.prompt_format in PROMPT_FORMATS
    assert len(b.languages) == 1 and b.languages[0] in PAPER_LANGUAGES  # one model a language
    assert set(PAPER_LANGUAGES) <= set(LANGUAGES)
    header = SDRRL.read_text().split("\nbase:")[0]
    assert " ".join(PAPER_LANGUAGES) in header and "dvc exp run --queue" in header
    assert params["methods"] == ["sdrrl", "sft", "t-sft", "cit", "xcot"]
    assert {params["build"][m]["recipe"] for m in params["methods"]} == set(SDRRL_RECIPES)
    assert params["build"]["sdrrl"]["parallel_pairs"] == 1000
    fetch = parsed(params, "fetch")
    assert fetch.hub.alpaca.id == "tatsu-lab/alpaca" and fetch.hub.dolly is None  # Alpaca only
    answers = parsed(params, "selfanswer")
    assert answers.enabled and answers.questions == 0 and answers.source_language == "en"
    translate = parsed(params, "machine_translate")
    assert translate.model == "facebook/nllb-200-3.3B" and translate.num_beams == 4
    f = parsed(params, "filter")
    assert f.qe == "cometkiwi" and f.threshold == 0.8 and f.lid != "toy"
    assert parsed(params, "codeswitch").p == 0.15
    train = parsed(params, "train")
    assert train.epochs == 4 and train.finetuning == "full"
    assert train.distributed.strategy == "fsdp" and train.distributed.num_processes == 8
    for method in params["methods"]:  # one schedule for SDRRL and its baselines
        assert method_config(params["train"], {}, method, 0) == train
        assert "train" not in params["build"][method]


def test_sdrrl_methods_train_on_their_schedule_next_to_radis():
    for path in (ROOT / "params.yaml", ROOT / "configs" / "paper.yaml"):
        params = yaml.safe_load(path.read_text())
        build, shared = params["build"], params["train"]
        epochs = {
            m: method_config(shared, entry.get("train", {}), m, 0).epochs
            for m, entry in build.items()
        }
        assert {epochs[m] for m, e in build.items() if e["recipe"] in SDRRL_RECIPES} == {4}
        assert epochs["radis"] == epochs["vanilla"] == shared["epochs"] == 3


def exp(name, lang, scores):
    """One experiment as ``dvc exp show --json`` (DVC 3) nests it."""
    metrics = {f"metrics/eval/{m}/multilingual.json": {"data": s} for m, s in scores.items()}
    metrics["metrics/eval/sdrrl/evaluate.json"] = {"data": {"chrf": 1.0}}
    data = {"params": {"params.yaml": {"data": {"base": {"languages": [lang]}}}}}
    return {"rev": name[:3], "name": name, "data": data | {"metrics": metrics}}


def test_per_language_table_from_dvc_exp_show(tmp_path):
    ja = {"sdrrl": {"belebele.ja": 45.81, "belebele.en": 65.13}, "sft": {"belebele.ja": 42.01}}
    cs = {"sdrrl": {"belebele.cs": 52.11, "belebele.en": 66.26}, "sft": {"belebele.cs": 49.33}}
    workspace = {"params": {"params.yaml": {"data": {"base": {"languages": ["qa", "qb"]}}}}}
    shown = [
        {
            "rev": "workspace",
            "data": workspace | {"metrics": {}},
            "experiments": [
                {"revs": [exp("sdrrl-ja", "ja", ja)]},
                {"revs": [exp("sdrrl-cs", "cs", cs)]},
            ],
        }
    ]
    text = tables(by_language(shown))
    target = text.split("**BELEBELE accuracy, English**")[0]
    assert "| model | cs | ja | avg |" in target
    assert "| sdrrl | 52.11 | 45.81 | 48.96 |" in target  # the paper's Table 2 numbers
    assert "| sft | 49.33 | 42.01 | 45.67 |" in target
    english = text.split("**BELEBELE accuracy, English**")[1].split("**")[0]
    assert "| sdrrl | 66.26 | 65.13 | 65.69 |" in english and "| sft | – | – | – |" in english
    assert "FLORES COMET, English to X, target language" in text
    clash = shown + [{"revs": [exp("again-cs", "cs", {"sdrrl": {"belebele.cs": 1.0}})]}]
    with pytest.raises(RadisError, match="'sdrrl-cs' and 'again-cs' both train cs"):
        by_language(clash)
    (tmp_path / "exps.json").write_text(json.dumps(shown))
    main(tmp_path / "exps.json", tmp_path / "table.md")
    assert (tmp_path / "table.md").read_text() == text
