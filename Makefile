# The verbs a maintainer uses. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench samples docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## run the whole job on sample_ledgers/ in a fresh demo workspace
	$(BIN)/ledger-batch demo

test: $(STAMP)  ## the test suite
	$(BIN)/pytest -q

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check ledger_batch tests scripts
	$(BIN)/ruff format --check ledger_batch tests scripts
	$(BIN)/mypy

samples: $(STAMP)  ## regenerate sample_ledgers/ (deterministic)
	$(BIN)/python scripts/make_samples.py sample_ledgers

bench: $(STAMP)  ## the benchmark (group-sized year; not part of the tests)
	$(BIN)/python scripts/bench.py

docs: $(STAMP)  ## regenerate docs/fields.md from the field registry
	$(BIN)/python scripts/make_docs.py docs/fields.md

clean:
	rm -rf $(VENV) ledger-batch-demo*
