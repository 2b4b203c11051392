"""The library's layout: packages by concern, no import cycles, names shared by stage and module.

Every module's imports (at module level or inside a function) form a graph without cycles, every
module imports in a fresh interpreter, and a stage's script and module share the stage's name, so
a reader finds a stage's logic from ``dvc.yaml``.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Stages whose logic lives in a module of another name, and why.
MODULE_OF = {
    "evaluate": "radis/evaluate/translation.py",  # the evaluate package's translation suite
    "summary": "radis/evaluate/report.py",  # the summary table and Figure 1 are the report's
    "toy_dictionary": "radis/toy/sdrrl.py",  # the toy world's side of SDRRL
}


def modules() -> dict[str, Path]:
    """Every module of the ``radis`` package by dotted name (packages by their ``__init__``)."""
    found = {}
    for path in sorted((ROOT / "radis").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The ``radis`` modules ``path`` imports (``from pkg import mod`` names ``pkg.mod``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            names |= (subs & known.keys()) or {node.module}
    return {n for n in names if n in known}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back():
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    assert not cycles(graph), f"import cycles: {cycles(graph)}"


def test_every_module_imports_in_a_fresh_interpreter():
    names = [n for n in modules() if not n.endswith("comet_worker")]  # COMET's own environment
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n)"
    proc = subprocess.run(
        [sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_library_is_grouped_into_packages():
    loose = sorted(p.name for p in (ROOT / "radis").glob("*.py"))
    assert loose == ["__init__.py", "cli.py", "smoke.py"]


def test_a_stage_script_and_module_share_the_stage_name():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        script = re.match(r"python -m stages\.(\w+)", stage.get("do", stage)["cmd"]).group(1)
        expected = name.removesuffix("-backbone").replace("-", "_")
        assert script == expected, f"stage {name!r} runs stages/{script}.py"
        owner = MODULE_OF.get(script)
        found = owner and (ROOT / owner).is_file()
        found = (
            found
            or any((ROOT / "radis").rglob(f"{script}.py"))
            or (ROOT / "radis" / script).is_dir()
        )
        assert found, f"stage {name!r}: no radis module or package named {script!r}"


def readme_tree() -> str:
    """The ``tree`` block of the README's Layout section."""
    text = (ROOT / "README.md").read_text()
    return text.split("## Layout", 1)[1].split("```", 2)[1]


def test_the_readme_tree_names_every_package_and_module():
    tree = readme_tree()
    words = set(re.findall(r"[\w.]+\*?", tree))
    for package in sorted(p for p in (ROOT / "radis").iterdir() if (p / "__init__.py").is_file()):
        assert f"{package.name}/" in tree, f"README tree misses radis/{package.name}/"
        for module in package.glob("*.py"):
            stem = module.stem
            listed = stem in words or any(
                w.endswith("*") and stem.startswith(w[:-1]) for w in words
            )
            assert stem == "__init__" or listed or package.name == "toy", (
                f"README tree misses radis/{package.name}/{module.name}"
            )


def test_every_path_in_the_readme_tree_exists():
    parents = [ROOT]  # the folder of each depth of the tree
    for line in readme_tree().splitlines()[2:]:
        entry = re.match(r"^([│ ]*)[├└]── (\S+)", line)
        if not entry:
            continue
        depth = len(entry.group(1)) // 4
        del parents[depth + 1 :]
        names = [n.strip() for n in entry.group(2).split(",") if n.strip()]
        names += re.findall(r"^,\s*(\S+)", line[entry.end() :])  # "dvc.yaml, dvc.lock"
        for name in names:
            assert (parents[depth] / name.rstrip("/")).exists(), f"README tree: {line.strip()}"
        parents.append(parents[depth] / names[0].rstrip("/"))
