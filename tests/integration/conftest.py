"""Integration fixtures: the real bundled models, prepared once into PRIVSYNTH_MODEL_CACHE."""

from __future__ import annotations

import pytest

from shared.config import ModelSettings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def model_settings() -> ModelSettings:
    return ModelSettings()
