"""Real vLLM engines (CPU build, its own environment) serving the bundled SmolLM2, started once per session:
one with LoRA for the clients' adapters, one without for the expert (grading reads prompt log-probabilities,
which vLLM's LoRA layers break: issues 29955, 16668; a LoRA-enabled CPU engine dies on them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.constants import DEFAULT_BASE_MODEL
from shared.models.resolve import resolve_model
from shared.services import ServiceProcess

SERVED = "smollm2"


@pytest.fixture(scope="session")
def vllm_python() -> str:
    python = os.environ.get("PRIVSYNTH_VLLM_PYTHON", str(Path(".venv-vllm/bin/python").absolute()))
    if not Path(python).is_file():
        pytest.fail(f"no vLLM environment at {python}: run `make vllm-env` (or set PRIVSYNTH_VLLM_PYTHON)")
    return python


def _engine(vllm_python: str, root: Path, *, lora: bool) -> Iterator[ServiceProcess]:
    from server_node.inference.vllm_process import start_vllm

    model = resolve_model(DEFAULT_BASE_MODEL).path
    service = start_vllm(vllm_python, model, served_name=SERVED, cache_dir=root / "cache", log=root / "vllm.log",
                         lora=lora, max_lora_rank=8, max_loras=2)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def engine(vllm_python: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from _engine(vllm_python, tmp_path_factory.mktemp("vllm"), lora=True)


@pytest.fixture(scope="session")
def expert_engine(vllm_python: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from _engine(vllm_python, tmp_path_factory.mktemp("vllm-expert"), lora=False)
