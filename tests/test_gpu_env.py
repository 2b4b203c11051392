"""The GPU environment (`make env GPU=1`) still resolves, with the CPU environment's versions.

The GPU extra cannot be installed here (CUDA wheels, gigabytes), so pip resolves it without
installing: `pip install --dry-run --report` of ``.[dev,gpu]`` under constraints-gpu.txt, against
the package indexes pip is configured with. It downloads index pages and, where an index serves
no separate metadata, whole wheels, so the dry run is done once for the module.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # pip resolves the GPU extra against the package indexes
# What pip prints when the network fails during the dry run (as opposed to a failed resolution).
NO_NETWORK = re.compile(
    r"NewConnectionError|ConnectTimeoutError|ReadTimeoutError|ProxyError|Max retries exceeded"
    r"|Temporary failure in name resolution|Network is unreachable"
)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    """``{name: version}`` of a constraints file's ``name==version`` (or ``===``) lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, version = re.split(r"===?", line)
            pins[_name(name)] = version
    return pins


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> list[dict]:
    """pip's report of what the GPU environment would install (its ``install`` list)."""
    pip = [sys.executable, "-m", "pip"]
    probe = subprocess.run(
        [*pip, "index", "versions", "vllm", "--retries", "0", "--timeout", "15"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if probe.returncode != 0 and "No matching distribution found for vllm" in probe.stderr:
        pytest.skip("no package index reachable (none of pip's indexes lists vllm)")
    report = tmp_path_factory.mktemp("gpu-env") / "report.json"
    command = [
        *pip, "install", "--dry-run", "--ignore-installed", "--progress-bar", "off",
        "--report", str(report), "-c", str(ROOT / "constraints-gpu.txt"), f"{ROOT}[dev,gpu]",
    ]  # fmt: skip
    done = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600
    )
    failed, output = done.returncode != 0, done.stdout
    if failed and NO_NETWORK.search(output):
        pytest.skip(f"no package index reachable: {NO_NETWORK.search(output).group(0)}")
    assert not failed, f"the GPU environment does not resolve:\n{output[-4000:]}"
    return json.loads(report.read_text())["install"]


@pytest.fixture(scope="module")
def resolved(report) -> dict[str, str]:
    """``{name: version}`` of everything the GPU environment would install."""
    return {_name(item["metadata"]["name"]): item["metadata"]["version"] for item in report}


def test_the_gpu_extra_resolves_with_vllm_and_liger(report, resolved):
    (radis,) = [item["metadata"] for item in report if item["metadata"]["name"] == "radis"]
    extra = [req.split(";")[0].strip() for req in radis["requires_dist"] if 'extra == "gpu"' in req]
    assert sorted(extra) == ["liger-kernel==0.8.5", "vllm==0.32.0"]
    assert resolved["vllm"] == "0.32.0" and resolved["liger-kernel"] == "0.8.5"
    assert resolved["torch"] == "2.13.0"  # PyPI's build (CUDA on Linux), not a local +cpu one


def test_the_gpu_environment_holds_the_cpu_one_at_the_same_versions(resolved):
    cpu = _pins(ROOT / "constraints.txt")
    assert {name: resolved.get(name) for name in cpu} == cpu
    for name in ("transformers", "tokenizers", "numpy", "huggingface-hub", "peft", "accelerate"):
        assert resolved[name] == cpu[name]


def test_every_package_of_the_gpu_environment_is_pinned(resolved):
    pinned = _pins(ROOT / "constraints.txt") | _pins(ROOT / "constraints-gpu.txt")
    assert {name: version for name, version in resolved.items() if name != "radis"} == {
        name: pinned.get(name) for name in resolved if name != "radis"
    }
