# The two commands: `make run` and `make test`. Everything they need is installed on demand.
PYTHON ?= python3
VENV ?= .venv
DATA_DIR ?= ./data
PORT ?= 8008
# One process by default: on this 2-core machine two (PYTEST_ARGS="-n 2 --dist loadgroup",
# grouped by tests/conftest.py) took as long, the CPU being saturated either way; on a machine
# with more cores, `-n auto --dist loadgroup` spreads the files over them.
PYTEST_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := hearth synapse_modules ai_bot media_repo devtools

.PHONY: run test lint typecheck pytest bench system-deps clean help

help:
	@echo "make run    - install what is missing, render the dev profile into $(DATA_DIR), run on port $(PORT)"
	@echo "make test   - install what is missing, run ruff, mypy --strict and the test suite with coverage"
	@echo "make bench  - benchmark vanilla Synapse against ours (writes docs/benchmarks.md)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

system-deps:
	@bash deploy/install-system-packages.sh

run: $(STAMP) system-deps
	$(BIN)/hearth run --data-dir $(DATA_DIR) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	@rm -rf .coverage-data && mkdir -p .coverage-data
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS); status=$$?; \
	  $(BIN)/coverage combine --quiet >/dev/null 2>&1; \
	  $(BIN)/coverage report; report=$$?; \
	  if [ $$status -ne 0 ]; then exit $$status; fi; exit $$report

test: lint typecheck pytest

bench: $(STAMP) system-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .coverage-data .mypy_cache .ruff_cache .pytest_cache
