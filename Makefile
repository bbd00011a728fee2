# Two commands for a fresh machine:
#   make demo   installs everything and runs a completion on the embedded default models
#   make test   installs the test dependencies (and bubblewrap) and runs the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test setup models system-deps

demo: models
	$(BIN)/codequorum complete examples/stats.py --line 6 --column 5

test: system-deps models
	bash scripts/run-tests.sh

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[local,bench,ranker,similarity,transformers,test]'
	touch $@

models: setup
	$(BIN)/codequorum models install

system-deps:
	bash scripts/system-deps.sh
