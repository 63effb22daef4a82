"""Shared fixtures: tiny models for unit tests, the prepared bundled models for integration tests."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests against a real vLLM (tests/vllm, marker ``vllm``) run only when asked for with ``-m vllm``
    (``make test-vllm``): they need vLLM's own environment."""
    for item in items:
        if "/vllm/" in str(item.fspath):
            item.add_marker(pytest.mark.vllm)
    if "vllm" in (config.getoption("markexpr") or ""):
        return
    deselected = [item for item in items if item.get_closest_marker("vllm") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker("vllm") is None]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``gpu`` run only where torch sees a CUDA device (nothing in the project requires one)."""
    if item.get_closest_marker("gpu") is not None:
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA device")
