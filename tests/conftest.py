"""Tiny tokenizer, model and data shared by the tests (built locally, no hub), the torch threads
of each test process, and the `slow` tier's plumbing (``make test`` runs it, ``make test-fast``
leaves it out)."""

import os
import subprocess
from pathlib import Path

import pytest
import torch

from radis.toy.backbone import build_model, train_tokenizer
from radis.toy.world import WorldConfig, build_world

ROOT = Path(__file__).resolve().parents[1]
COMET_PYTHON = ROOT / ".venv-comet" / "bin" / "python"

#: Test processes at once (pytest-xdist's ``-n``; 1 without it).
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
#: Torch threads of a test process and of the stages it runs: two, or one each when several
#: test processes share the cores (tiny models gain little from a second thread).
THREADS = 1 if WORKERS > 1 else 2
if WORKERS > 1:
    os.environ.setdefault("RADIS_THREADS", str(THREADS))

#: Modules whose shared fixture is a whole `dvc repro`: first in line, so that with two workers
#: each starts at once on its own and the other tests fill in around them.
FIRST = ("test_pipeline.py", "test_paper.py")
#: Fixtures that make a test slow wherever it is: they run the COMET environment.
SLOW_FIXTURES = {"tiny_comet"}

TINY_MODEL = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    max_position_embeddings=256,
    tie_word_embeddings=True,
)


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))


@pytest.fixture(scope="session")
def world():
    return build_world(
        WorldConfig(
            train_pairs=20,
            valid_pairs=2,
            test_pairs=4,
            backbone_pairs=10,
            backbone_items={"math": 20, "instruct": 20, "safety": 20},
            eval_items=4,
        ),
        seed=0,
    )


@pytest.fixture(scope="session")
def tokenizer(world):
    texts = [c["prompt"] + "\n" + c["completion"] for c in world["chat"]]
    return train_tokenizer(texts + [r["source"] for r in world["parallel"]], vocab_size=400)


@pytest.fixture(scope="session")
def model_dir(tokenizer, tmp_path_factory):
    """A randomly initialised tiny Qwen2 chat model saved like a hub checkpoint."""
    path = tmp_path_factory.mktemp("tiny-model")
    model = build_model(tokenizer, TINY_MODEL, seed=0)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_comet(tmp_path_factory):
    """Tiny trained COMET checkpoints: ``da`` (with references) and ``kiwi`` (reference-free),
    made once per test process in the COMET environment (tests/comet_tiny.py)."""
    if not COMET_PYTHON.is_file():
        pytest.skip(".venv-comet is absent (make comet-env)")
    out = tmp_path_factory.mktemp("comet") / "models"
    subprocess.run(
        [str(COMET_PYTHON), "-I", str(ROOT / "tests" / "comet_tiny.py"), str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(THREADS)
