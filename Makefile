# The two commands a fresh machine needs (see README.md):
#   make run    set up .venv and start the bot
#   make test   set up .venv and run lint, types and the whole test suite
# torch is pinned to the version the tests run on. From PyPI on Linux that is the CUDA build
# (several GB); for the CPU build give PyTorch's CPU index:
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
# The venv has the `cluster` extra (Ray) too, so the tests of remote workers run.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
CHECKED := core inference db contests funding registry studio web cogs bot bench intake

.PHONY: run test lint check install clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	touch $@

install: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/atelier run

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(CHECKED)

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
