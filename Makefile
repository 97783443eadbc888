# The two commands a fresh machine needs (see README.md):
#   make run    set up .venv and start the bot
#   make test   set up .venv and run lint, types and the whole test suite
# The venv has the `cluster` extra (Ray) too, so the tests of remote workers run.
# torch is pinned so that a machine without a GPU takes the CPU build from local
# disk (or the regular wheel elsewhere) instead of guessing a multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
CHECKED := core inference db contests funding registry studio cogs bot bench

.PHONY: run test lint check install clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e '.[dev,cluster]'
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
