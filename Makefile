# Two commands for a fresh machine:
#   make demo   installs everything and runs a completion on the embedded default models
#   make test   installs the test dependencies (and bubblewrap) and runs the whole test suite:
#               the fast tests (unit, security) first, then the end-to-end tests with real models
#   make test-fast   only the fast tests (no model is loaded or installed)
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test test-fast setup models system-deps

demo: models
	$(BIN)/codequorum complete examples/stats.py --line 6 --column 5

test: system-deps models
	bash scripts/run-tests.sh

test-fast: system-deps setup
	bash scripts/run-tests.sh --fast

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[local,bench,ranker,similarity,transformers,distill,test]'
	touch $@

models: setup
	$(BIN)/codequorum models install

system-deps:
	bash scripts/system-deps.sh
