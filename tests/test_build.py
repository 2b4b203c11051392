import typing
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from radis.core.config import parse
from radis.core.io import RadisError, write_table
from radis.core.schemas import SDRRL_ANSWERS, SELFGEN, TRANSLATION
from radis.data.build import INPUTS, RECIPES, MethodConfig, build, last_sentence_end, recipe_config
from stages import build as build_stage

ROOT = Path(__file__).resolve().parents[1]

TRAIN = pd.DataFrame(
    {
        "id": ["p1", "p2", "p3"],
        "split": "train",
        "src_lang": "en",
        "tgt_lang": "qa",
        "source": ["a.", "b.", "c."],
        "reference": ["A.", "B.", "C."],
    }
)


def make(cfg, extra=None, train=TRAIN, seed=0):
    """The method's set from the translation rows and its recipe's one other table."""
    tables = {"train": train}
    if extra is not None:
        tables[RECIPES[cfg.recipe].inputs[1]] = extra
    return build(cfg, tables, seed)


def rationales(texts, reasons=("stop", "stop", "stop")):
    from radis.data.rationales import with_instructions

    rows = with_instructions(TRAIN, seed=0)
    return rows.assign(rationale=list(texts), finish_reason=list(reasons))


def test_vanilla_and_radis_share_instructions_and_radis_appends_rationales():
    v = make(MethodConfig("vanilla"))
    r = make(MethodConfig("radis"), rationales(["\n\nWhy 1", "\n\nWhy 2", "\n\nWhy 3"]))
    assert v.prompt.tolist() == r.prompt.tolist()
    assert v.completion.tolist() == ["A.", "B.", "C."]
    assert r.completion.tolist() == ["A.\n\nWhy 1", "B.\n\nWhy 2", "C.\n\nWhy 3"]


def test_radis_empty_and_truncated_rationales():
    rat = rationales(["", "\n\nOne. Two is", "\n\nok"], ("stop", "length", "stop"))
    cut = make(MethodConfig("radis"), rat)
    assert cut.completion.tolist() == ["A.", "B.\n\nOne.", "C.\n\nok"]
    strict = make(MethodConfig("radis", truncated="drop", drop_empty=True), rat)
    assert strict.id.tolist() == ["p2", "p3"]
    assert strict.completion.tolist() == ["B.", "C.\n\nok"]
    # No complete sentence: the row keeps the reference only (it is not an empty rationale).
    rat = rationales(["\n\nwhy", "\n\nno end yet", "\n\nok"], ("stop", "length", "stop"))
    strict = make(MethodConfig("radis", drop_empty=True), rat)
    assert strict.completion.tolist() == ["A.\n\nwhy", "B.", "C.\n\nok"]


def test_masked_control_cuts_truncated_rationales_alike():
    rat = rationales(["\n\nWhy 1", "\n\nOne. Two is", ""], ("stop", "length", "stop"))
    m = make(MethodConfig("radis", rationale_loss=False), rat)
    assert m.masked_suffix.tolist() == ["\n\nWhy 1", "\n\nOne.", ""]


@pytest.mark.parametrize(
    "text, kept",
    [
        ("\n\nThis is one. And two is cu", "\n\nThis is one."),
        ("\n\nWhy? Because! and", "\n\nWhy? Because!"),
        ('He said "yes." Then he', 'He said "yes."'),
        ("\n\nThe answer is 5. So the", "\n\nThe answer is 5."),
        ("\n\n这是第一句。这是第二", "\n\n这是第一句。"),
        ("\n\n是的！为什么？因为", "\n\n是的！为什么？"),
        ("\n\n「はい。」と彼は言", "\n\n「はい。」"),
        ("\n\n1. First thing. 2. Sec", "\n\n1. First thing."),  # a list number ends nothing
        ("\n\nSteps:\n1. Do this\n2. Th", ""),
        ("\n\nIt costs 3.5 dollars a", ""),  # a decimal point is no full stop
        ("\n\nIt ends with 3.", ""),  # the cut may fall inside 3.5
        ("\n\nno end at all", ""),
    ],
)
def test_last_sentence_end(text, kept):
    assert last_sentence_end(text) == kept


def test_masked_rationale_control_keeps_the_rationale_out_of_the_loss_text():
    rat = rationales(["\n\nWhy 1", "", "\n\nWhy 3"])
    r = make(MethodConfig("radis"), rat)
    m = make(MethodConfig("radis", rationale_loss=False), rat)
    assert m.prompt.tolist() == r.prompt.tolist()
    assert m.completion.tolist() == ["A.", "B.", "C."]
    assert m.masked_suffix.tolist() == ["\n\nWhy 1", "", "\n\nWhy 3"]
    assert (m.completion + m.masked_suffix).tolist() == r.completion.tolist()
    assert (r.masked_suffix == "").all()


def test_radis_needs_a_rationale_per_training_row():
    with pytest.raises(RadisError, match="rationales table: no row for 1 training id"):
        make(MethodConfig("radis"), rationales(["x", "y", "z"]).head(2))


def test_proportion_enriches_an_exact_seeded_share():
    train = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(40)],
            "split": "train",
            "src_lang": "en",
            "tgt_lang": "qa",
            "source": "a.",
            "reference": "A.",
        }
    )
    from radis.data.rationales import with_instructions

    rat = with_instructions(train, 0).assign(rationale=" why", finish_reason="stop")
    cfg = MethodConfig("radis", proportion=0.25)
    out = make(cfg, rat, train, seed=0)
    enriched = out[out.completion == "A. why"].id
    assert len(out) == 40 and len(enriched) == 10
    assert (
        enriched.tolist()
        == make(cfg, rat, train, seed=0)[lambda d: d.completion != "A."].id.tolist()
    )
    assert set(enriched) != set(make(cfg, rat, train, seed=1)[lambda d: d.completion != "A."].id)


def test_multitask_mixes_in_instruction_rows_at_the_ratio():
    inst = pd.DataFrame({"id": [f"i{k}" for k in range(10)], "prompt": "q", "completion": "a"})
    out = make(MethodConfig("multitask", instruction_ratio=2.0), inst)
    assert len(out) == 3 + 6 and out.id.is_unique
    assert (out.completion == "a").sum() == 6
    assert out.head(3).completion.tolist() == ["A.", "B.", "C."]


def test_multitask_uses_each_instruction_row_at_most_once(capsys):
    inst = pd.DataFrame(
        {
            "id": [f"i{k}" for k in range(4)],
            "prompt": "q",
            "completion": [f"a{k}" for k in range(4)],
        }
    )
    out = make(MethodConfig("multitask", instruction_ratio=2.0), inst)
    # 6 rows asked of a pool of 4: each is used once, not drawn again.
    assert sorted(out.completion.tolist()[3:]) == ["a0", "a1", "a2", "a3"]
    assert "asks for 6 instruction rows, the pool holds 4" in capsys.readouterr().err


def test_seqkd_adds_the_backbones_own_translations():
    own = pd.DataFrame(
        {"id": ["p1", "p2", "p3"], "response": ["A'", "", "C'"], "finish_reason": "stop"}
    )
    out = make(MethodConfig("seqkd"), own)
    assert out.completion.tolist() == ["A.", "B.", "C.", "A'", "C'"]  # empty y' is skipped
    assert out.prompt.tolist()[3] == out.prompt.tolist()[0]


def test_seqkd_drops_translations_cut_short():
    own = pd.DataFrame(
        {"id": ["p1", "p2", "p3"], "response": ["A'", "B'", "C'"], "finish_reason": "stop"}
    )
    own.loc[1, "finish_reason"] = "length"
    out = make(MethodConfig("seqkd"), own)
    assert out.completion.tolist() == ["A.", "B.", "C.", "A'", "C'"]


def test_sdft_trains_on_rewrites_and_the_reference_for_one_cut_short():
    rewrites = pd.DataFrame(
        {
            "id": ["p3", "p1", "p2"],
            "response": ["c!", "a!", "b! and the"],
            "finish_reason": ["stop", "stop", "length"],
        }
    )
    out = make(MethodConfig("sdft"), rewrites)
    assert dict(zip(out.id, out.completion)) == {"p1": "a!", "p2": "B.", "p3": "c!"}


# --- the recipe registry and the stage --------------------------------------------------------


@pytest.mark.parametrize("path", ["params.yaml", "configs/paper.yaml", "configs/sdrrl.yaml"])
def test_every_configured_recipe_is_registered_and_parses(path):
    build_params = yaml.safe_load((ROOT / path).read_text())["build"]
    for method, entry in build_params.items():
        assert entry["recipe"] in RECIPES, f"{path}: build.{method}"
        cfg = recipe_config(entry, f"{path}: build.{method}")
        assert type(cfg) is RECIPES[entry["recipe"]].params and cfg.recipe == entry["recipe"]


def test_registry_matches_its_params_classes():
    literals = set()
    for name, recipe in RECIPES.items():
        assert parse(recipe.params, {"recipe": name}, name).recipe == name
        assert set(recipe.inputs) <= set(INPUTS)
        literals |= set(typing.get_args(typing.get_type_hints(recipe.params)["recipe"]))
    assert literals == set(RECIPES)
    assert type(recipe_config({}, "build.m")) is MethodConfig  # no recipe: vanilla


def run_build(tmp_path, monkeypatch, method, **changes):
    """Stage ``build`` in-process in ``tmp_path``, with ``params.yaml`` changed by ``changes``."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["methods"].append(method)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = params
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(build_stage.app, [method])


def one_error_line(result) -> str:
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_unknown_recipe_is_one_line_naming_the_field_and_every_recipe(tmp_path, monkeypatch):
    line = one_error_line(run_build(tmp_path, monkeypatch, "m", **{"build.m.recipe": "nope"}))
    assert line.startswith("error: params.yaml: build.m.recipe: 'nope' is not one of")
    assert all(repr(name) in line for name in RECIPES)


@pytest.mark.parametrize(
    ("recipe", "path", "schema", "why"),
    [
        ("seqkd", "data/selfgen/translate.parquet", SELFGEN, "selfgen.kinds lists the kind"),
        ("sdrrl", "data/sdrrl/selfanswer.parquet", SDRRL_ANSWERS, "selfanswer.enabled: true"),
    ],
)
def test_an_empty_input_says_which_switch_leaves_it_empty(
    tmp_path, monkeypatch, recipe, path, schema, why
):
    write_table(TRAIN, tmp_path / "data/fetch/translation.parquet", TRANSLATION)
    write_table([], tmp_path / path, schema)
    line = one_error_line(run_build(tmp_path, monkeypatch, "m", **{"build.m.recipe": recipe}))
    assert line.startswith(f"error: {path}: table is empty (") and line.endswith(f"{why})")
