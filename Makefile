# The two setup commands: `make demo` and `make test`. Everything else here is what they build on.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Models are converted once into this cache; tests and the demo never touch a model hub.
export PRIVSYNTH_MODEL_CACHE ?= $(CURDIR)/.cache/models
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install models test test-unit demo lint clean

help:
	@echo "make demo   - set up everything, then run the demo on bundled data"
	@echo "make test   - set up everything, then run the test suite"
	@echo "make models - prepare the offline default models into $(PRIVSYNTH_MODEL_CACHE)"
	@echo "make lint   - ruff"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "privsynth needs Python 3.11, found " + sys.version.split()[0] + ": set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

# torch first and pinned exactly: the local CPU wheel; anything looser pulls several GB of CUDA builds.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

models: install
	$(BIN)/client-node models prepare

test: models
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest -m "not integration"

demo: models
	$(BIN)/client-node demo

lint: install
	$(BIN)/ruff check client_node server_node shared tests bench

clean:
	rm -rf $(VENV) .cache .pytest_cache *.egg-info
