# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Each stamp records that an install step ran against the current pyproject.toml.
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP    := $(VENV)/.test-installed
BENCH_STAMP   := $(VENV)/.bench-installed

.PHONY: run once console test lint typecheck pytest bench bench-full clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The tests cover the benchmark harness too, so they take its extras (datasketch);
# `make run` never installs them.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(RUNTIME_STAMP)

$(BENCH_STAMP): $(TEST_STAMP)
	touch $@

## Ingest seeds/, print a digest, write it to briefings/, then keep serving until Ctrl-C.
run: $(RUNTIME_STAMP)
	$(BIN)/briefbot run

## One digest and exit (for cron and smoke tests).
once: $(RUNTIME_STAMP)
	$(BIN)/briefbot run --once

console: $(RUNTIME_STAMP)
	$(BIN)/briefbot console

test: lint typecheck pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

pytest: $(TEST_STAMP)
	$(BIN)/pytest

## 10k-document benchmark (a few minutes).
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --docs 10000

## 100k-document benchmark (the archive-scale targets).
bench-full: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --docs 100000

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache *.egg-info
