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


ON_REQUEST = ("vllm", "bench")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Two kinds of tests run only when ``-m`` names them: against a real vLLM (tests/vllm, ``vllm``;
    ``make test-vllm``, in its own environment) and whole benchmark runs at their smallest (``bench``;
    ``make test-bench``), which are benchmarks more than tests and would double the suite's time."""
    for item in items:
        if "/vllm/" in str(item.fspath):
            item.add_marker(pytest.mark.vllm)
    asked = config.getoption("markexpr") or ""
    skip = [m for m in ON_REQUEST if m not in asked]
    deselected = [item for item in items if any(item.get_closest_marker(m) is not None for m in skip)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``gpu`` run only where torch sees a CUDA device (nothing in the project requires one)."""
    if item.get_closest_marker("gpu") is not None:
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA device")
