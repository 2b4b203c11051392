"""Run a stage's command in the test's own process, as ``python -m stages.<name>`` would.

A fresh interpreter per stage costs seconds of imports; the checks on bad input (one ``error:``
line, exit code 1, no traceback, nothing written) hold just as well in process. Tests about the
process itself (signals, ``accelerate launch``, variables read at import) keep a subprocess.
"""

import contextlib
import importlib
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from radis.data.hub import COMMITS


@dataclass
class StageRun:
    """What a stage run left: like :class:`subprocess.CompletedProcess` with text output."""

    returncode: int
    stdout: str
    stderr: str


def run_stage(cwd: Path, module: str, *args: str, env: dict[str, str] | None = None) -> StageRun:
    """Run ``python -m MODULE ARGS`` in folder ``cwd``, in this process.

    ``env`` is set for the run only; so is anything the stage itself sets in ``os.environ``.
    The hub commits a stage records start empty, as in a fresh interpreter, and are put back.
    An exception other than :class:`SystemExit` gives exit code 1 and its traceback on stderr,
    as the interpreter would print it, so "no traceback" checks keep their meaning.
    """
    app = importlib.import_module(module).app
    with contextlib.chdir(cwd), _restored_environ(), _fresh_commits():
        result = CliRunner().invoke(app, list(args), env=env)
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return StageRun(result.exit_code, result.stdout, stderr)


def assert_one_line_error(result: StageRun, *fragments: str) -> None:
    """Check a failed run printed one ``error:`` line holding ``fragments`` and no traceback."""
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.stderr


@contextlib.contextmanager
def _restored_environ():
    """Undo whatever the block sets or removes in ``os.environ``."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        for key, value in saved.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


@contextlib.contextmanager
def _fresh_commits():
    """Start the block with no recorded hub commits; put the earlier ones back after it."""
    saved = dict(COMMITS)
    COMMITS.clear()
    try:
        yield
    finally:
        COMMITS.clear()
        COMMITS.update(saved)
