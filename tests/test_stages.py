"""Stage entry points: bad input gives one clear line and exit code 1 (run in process)."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from stage_runner import assert_one_line_error, run_stage

from radis.core.io import read_table, write_table
from radis.core.schemas import SELFGEN, TRANSLATION

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    return tmp_path


def set_param(workdir, dotted, value):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    node = params
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def test_missing_input_file(workdir):
    result = run_stage(workdir, "stages.build", "vanilla")
    assert_one_line_error(result, "data/fetch/translation.parquet: file not found")


def test_unknown_method(workdir):
    assert_one_line_error(
        run_stage(workdir, "stages.build", "nope"), "methods: 'nope' is not listed"
    )


def test_non_positive_batch_size(workdir):
    set_param(workdir, "train.batch_size", 0)
    result = run_stage(workdir, "stages.train", "vanilla")
    assert_one_line_error(result, "params.yaml: train.batch_size: must be > 0")


def test_unknown_language(workdir, world):
    from radis.core.io import write_table
    from radis.core.schemas import GENERAL, SFT, TRANSLATION

    toy = workdir / "data/toy/world"
    write_table(world["parallel"], toy / "parallel.parquet", TRANSLATION)
    write_table(world["general"], toy / "general.parquet", GENERAL)
    write_table(world["instructions"], toy / "instructions.parquet", SFT)
    set_param(workdir, "base.languages", ["qa", "xx"])
    result = run_stage(workdir, "stages.fetch")
    assert_one_line_error(result, "base.languages: unknown language 'xx'")
    assert not (workdir / "data/fetch").exists()


def test_missing_model_directory(workdir, world):
    from radis.core.io import write_table
    from radis.core.schemas import GENERAL, TRANSLATION

    write_table(world["parallel"], workdir / "data/fetch/translation.parquet", TRANSLATION)
    write_table(world["general"], workdir / "data/fetch/general.parquet", GENERAL)
    result = run_stage(workdir, "stages.evaluate", "radis")  # not trained
    assert_one_line_error(result, "data/models/radis: model directory not found (run the train")


def test_empty_input_table(workdir):
    from radis.core.io import write_table
    from radis.core.schemas import TRAIN_SET

    write_table([], workdir / "data/build/vanilla.parquet", TRAIN_SET)
    result = run_stage(workdir, "stages.train", "vanilla")
    assert_one_line_error(result, "data/build/vanilla.parquet: table is empty")


def test_unknown_rationale_set(workdir):
    result = run_stage(workdir, "stages.rationales", "other")
    assert_one_line_error(result, "rationales.models: no entry 'other'")


def test_unknown_selfgen_kind(workdir):
    assert_one_line_error(run_stage(workdir, "stages.selfgen", "paraphrase"), "unknown kind")


def test_too_many_eval_items_is_a_clear_error():
    from radis.core.io import RadisError
    from radis.toy.world import WorldConfig, general_items

    with pytest.raises(RadisError, match="toy.world.eval_items: cannot draw 5000"):
        general_items(
            WorldConfig(eval_items=5000, backbone_items={"math": 1, "instruct": 1, "safety": 1}),
            seed=0,
        )


def test_selfgen_idles_unless_its_kind_is_listed(workdir):
    set_param(workdir, "selfgen.kinds", [])
    set_param(workdir, "methods", ["vanilla", "seqkd"])  # methods do not switch it: kinds do
    for kind in ("translate", "rewrite"):
        result = run_stage(workdir, "stages.selfgen", kind)
        assert result.returncode == 0, result.stderr
        assert f"selfgen.kinds does not list {kind}" in result.stderr
        assert read_table(workdir / f"data/selfgen/{kind}.parquet", SELFGEN, allow_empty=True).empty
    set_param(workdir, "selfgen.kinds", ["translate"])
    assert_one_line_error(run_stage(workdir, "stages.selfgen", "translate"), "translation.parquet")
    assert run_stage(workdir, "stages.selfgen", "rewrite").returncode == 0
    set_param(workdir, "selfgen.kinds", ["paraphrase"])
    assert_one_line_error(run_stage(workdir, "stages.selfgen", "rewrite"), "selfgen.kinds")


# --- params nested under a library's own names are checked when the stage starts -------------


@pytest.mark.parametrize(
    "dotted, value, stage, fragment",
    [
        ("train.lora.r", -4, ["stages.train", "vanilla"], "train.lora.r: must be a positive"),
        ("train.lora.rank", 8, ["stages.train", "vanilla"], "train.lora: "),
        (
            "train.distributed.fsdp_config",
            {"fsdp_versoin": 2},
            ["stages.train", "vanilla"],
            "train.distributed.fsdp_config: unknown key(s) ['fsdp_versoin']",
        ),
        ("filter.comet", {"modle": "x"}, ["stages.filter", "qa"], "filter.comet: unknown field"),
    ],
)
def test_library_kwargs_fail_at_stage_start(workdir, dotted, value, stage, fragment):
    set_param(workdir, dotted, value)
    assert_one_line_error(run_stage(workdir, *stage), fragment)


def test_null_texts_are_rejected_on_read(workdir):
    rows = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "split": ["train"] * 3,
            "src_lang": ["en"] * 3,
            "tgt_lang": ["qa"] * 3,
            "source": ["one", "two", "three"],
            "reference": ["uno", None, None],
        }
    )
    path = workdir / "data/fetch/translation.parquet"
    write_table(rows[list(TRANSLATION.fields)], path, TRANSLATION)
    assert_one_line_error(
        run_stage(workdir, "stages.build", "vanilla"),
        "data/fetch/translation.parquet: column 'reference' has 2 null value(s)",
    )
    assert not (workdir / "data/build/vanilla.parquet").exists()


@pytest.mark.parametrize("stage", ["evaluate", "multilingual", "safety", "judge"])
def test_model_name_must_be_listed_before_any_path_is_built(workdir, stage):
    (workdir / "data/keep").mkdir(parents=True)
    result = run_stage(workdir, f"stages.{stage}", "..")
    assert_one_line_error(result, "model name '..' is neither 'backbone' nor a listed method")
    assert (workdir / "data/keep").is_dir()
