# `make repro` and `make test` create the environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: env repro test lint clean-env

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

repro: env
	$(BIN)/dvc repro
	@cat metrics/table.md

test: env
	$(BIN)/python -m pytest -q

lint: env
	$(BIN)/ruff check radis stages tests bench
	$(BIN)/ruff format --check radis stages tests bench

clean-env:
	rm -rf $(VENV)
