"""Deterministic fault injection for the kill-and-resume tests.

:func:`killed_after` returns the environment of a stage run that SIGKILLs itself (as the OOM
killer or a pre-empted node would) right after the ``n``-th call of a library function: a
``sitecustomize`` module on the run's path wraps that function before the stage imports it.
"""

import os
from pathlib import Path

WRAPPER = """
import os, signal
import {module}

_call, _calls = {module}.{name}, []


def call_then_die(*args, **kwargs):
    _call(*args, **kwargs)
    _calls.append(1)
    if len(_calls) == {n}:
        os.kill(os.getpid(), signal.SIGKILL)


{module}.{name} = call_then_die
"""


def killed_after(target: str, n: int, env: dict, folder: Path, root: Path) -> dict:
    """``env`` for a run killed after the ``n``-th call of ``target`` (``module.function``).

    The wrapper is written to ``folder/sitecustomize.py``; ``root`` is the repository.
    """
    module, name = target.rsplit(".", 1)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(WRAPPER.format(module=module, name=name, n=n))
    return env | {"PYTHONPATH": f"{folder}{os.pathsep}{root}"}
