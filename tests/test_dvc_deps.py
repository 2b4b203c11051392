"""dvc.yaml lists every module a stage imports, so a code change reruns exactly the stages it can
change. The import closure of each stage's entry point (``python -m stages.<name>``) is derived
from the source: every ``import`` and ``from ... import`` of ``radis`` or ``stages``, at module
level or inside a function, followed transitively, with the packages' ``__init__.py`` unless empty.
"""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
OWN = ("radis", "stages")


def module_file(name: str) -> Path | None:
    """The file of module ``name`` (``radis.cli`` -> radis/cli.py), or None if not ours."""
    if name.split(".")[0] not in OWN:
        return None
    path = ROOT / Path(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def imported(path: Path) -> set[str]:
    """Names of the modules ``path`` imports (``from pkg import mod`` counts ``pkg.mod`` too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def closure(module: str) -> set[str]:
    """Repository-relative paths of every file ``module`` imports, itself and packages included."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # a module imports its parent packages
            path = module_file(".".join(parts[:i]))
            if path is not None and path not in seen:
                seen.add(path)
                todo += imported(path)
    # an empty or docstring-only file (a package's __init__.py) changes nothing, and DVC warns
    # about empty deps
    return {str(p.relative_to(ROOT)) for p in seen if not inert(p)}


def inert(path: Path) -> bool:
    """Whether ``path`` holds no code: empty, or a docstring alone."""
    body = ast.parse(path.read_text()).body
    return not body or (
        len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    )


def stages() -> list[tuple[str, str, list[str]]]:
    """(stage name, entry module, deps) for every stage and foreach template of dvc.yaml."""
    found = []
    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        stage = stage.get("do", stage)
        module = re.match(r"python -m (stages\.\w+)", stage["cmd"]).group(1)
        found.append((name, module, stage["deps"]))
    return found


def test_closure_follows_imports_inside_functions():
    # radis.sdrrl.filter imports radis.evaluate.comet only inside a function
    assert "radis/evaluate/comet.py" in closure("radis.sdrrl.filter")
    assert {"radis/__init__.py", "stages/train.py"} <= closure("stages.train")
    assert "stages/__init__.py" not in closure("stages.train")  # empty
    assert "radis/toy/__init__.py" not in closure("stages.toy")  # a docstring alone


@pytest.mark.parametrize("name, module, deps", stages(), ids=[s[0] for s in stages()])
def test_dvc_yaml_lists_every_imported_module(name, module, deps):
    missing = sorted(runs(module) - set(deps))
    assert not missing, f"dvc.yaml stage {name!r} misses {missing}"


@pytest.mark.parametrize("name, module, deps", stages(), ids=[s[0] for s in stages()])
def test_dvc_yaml_lists_no_module_the_stage_does_not_import(name, module, deps):
    """A stale entry reruns the stage on changes that cannot affect it."""
    ours = {d for d in deps if d.endswith(".py") and d.split("/")[0] in OWN}
    extra = sorted(ours - runs(module))
    assert not extra, f"dvc.yaml stage {name!r} lists {extra}, which it does not import"


#: Scripts a module runs in another interpreter rather than importing (COMET's own environment).
SUBPROCESS_SCRIPTS = {"radis/evaluate/comet.py": {"radis/evaluate/comet_worker.py"}}


def runs(module: str) -> set[str]:
    """The files a stage's code depends on: its import closure and the scripts it runs."""
    files = closure(module)
    return files.union(*(SUBPROCESS_SCRIPTS.get(f, set()) for f in files))


def test_a_stage_that_scores_with_comet_depends_on_the_worker():
    assert "radis/evaluate/comet_worker.py" in runs("stages.formality")
    assert "radis/evaluate/comet_worker.py" not in runs("stages.train")
