"""The in-process stage runner sees what a subprocess would: tracebacks, exit codes, one line."""

import os
import sys
import types
from pathlib import Path

import pytest
import typer
from stage_runner import assert_one_line_error, run_stage

from radis.cli import stage_errors
from radis.core.io import RadisError
from radis.data.hub import COMMITS


@pytest.fixture
def stage(monkeypatch):
    """A stage module ``fake_stage`` whose command fails as KIND says, after touching state."""
    app = typer.Typer(add_completion=False)

    @app.command()
    def main(kind: str) -> None:
        os.environ["RADIS_TEST_SET_BY_STAGE"] = "1"
        assert not COMMITS  # a fresh interpreter has recorded no commit yet
        COMMITS["org/model"] = "0" * 40
        Path("out.txt").write_text(kind)
        with stage_errors():
            if kind == "bad-input":
                raise RadisError("params.yaml: x: must be > 0")
            if kind == "bug":
                raise ValueError("a bug")

    monkeypatch.setitem(sys.modules, "fake_stage", types.SimpleNamespace(app=app))
    monkeypatch.delenv("RADIS_TEST_SET_BY_STAGE", raising=False)
    monkeypatch.setitem(COMMITS, "org/earlier", "1" * 40)
    return "fake_stage"


def test_bad_input_is_one_error_line_and_exit_code_1(stage, tmp_path):
    result = run_stage(tmp_path, stage, "bad-input")
    assert_one_line_error(result, "params.yaml: x: must be > 0")
    assert (tmp_path / "out.txt").read_text() == "bad-input"  # it ran in tmp_path
    assert Path.cwd() != tmp_path


def test_an_unexpected_exception_shows_its_traceback(stage, tmp_path):
    result = run_stage(tmp_path, stage, "bug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "ValueError: a bug" in result.stderr
    with pytest.raises(AssertionError):
        assert_one_line_error(result)


def test_a_usage_error_is_not_exit_code_1(stage, tmp_path):
    result = run_stage(tmp_path, stage)  # KIND missing
    assert result.returncode == 2 and "Missing argument" in result.stderr


def test_the_environment_and_the_commits_are_put_back(stage, tmp_path):
    before = dict(COMMITS)  # the fixture's entry, and any an earlier test of this worker left
    assert run_stage(tmp_path, stage, "ok", env={"RADIS_TEST_GIVEN": "1"}).returncode == 0
    assert "RADIS_TEST_SET_BY_STAGE" not in os.environ and "RADIS_TEST_GIVEN" not in os.environ
    assert COMMITS == before and before["org/earlier"] == "1" * 40
