# `make repro`, `make test` and `make test-fast` create the environment on first use.
# `make test` runs every test, two at a time (pytest-xdist), and also creates .venv-comet,
# COMET's own environment (transformers<5, numpy<2), used through a subprocess.
# `make test-fast` runs the unit and in-process tests only (not those marked `slow`: stages as
# processes, dvc, pip, the COMET environment), without .venv-comet.
# GPU=1 (`make env GPU=1`, `make repro GPU=1`) installs the `gpu` extra too (vLLM, liger-kernel)
# into the same .venv, pinned by constraints-gpu.txt (constraints.txt plus the GPU-only packages).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COMET_VENV := .venv-comet
GPU ?= 0
ifeq ($(GPU),1)
STAMP := $(VENV)/.installed-gpu
else
STAMP := $(VENV)/.installed
endif
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: env comet-env repro test test-fast lint clean-env

env: $(STAMP)

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

$(VENV)/.installed-gpu: pyproject.toml constraints.txt constraints-gpu.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints-gpu.txt -e ".[dev,gpu]"
	touch $@

comet-env: $(COMET_VENV)/.installed

$(COMET_VENV)/.installed: envs/comet/requirements.txt envs/comet/constraints.txt
	test -x $(COMET_VENV)/bin/python || $(PYTHON) -m venv $(COMET_VENV)
	$(COMET_VENV)/bin/python -m pip install -q --upgrade pip
	$(COMET_VENV)/bin/python -m pip install -q -c envs/comet/constraints.txt -r envs/comet/requirements.txt
	touch $@

repro: env
	$(BIN)/dvc repro
	@cat metrics/table.md

# Two workers, a test file each at a time (a file's shared fixtures are built once), in
# tests/conftest.py's order: the two whole `dvc repro` files first, one on each worker.
test: env comet-env
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

test-fast: env
	$(BIN)/python -m pytest -q -m "not slow"

lint: env
	$(BIN)/ruff check radis stages tests bench
	$(BIN)/ruff format --check radis stages tests bench

clean-env:
	rm -rf $(VENV) $(COMET_VENV)
