"""Model spec resolution: bundled names, local directories, hub ids offline, and clear errors."""

from __future__ import annotations

import pytest

from shared.config import ModelSettings
from shared.errors import ModelUnavailableError, UnsupportedModelError
from shared.models import ModelSource, resolve_model
from shared.models.tiny import make_tiny_llama


def test_local_directory(tmp_path) -> None:
    make_tiny_llama().save_pretrained(tmp_path / "m")
    resolved = resolve_model(str(tmp_path / "m"), settings=ModelSettings(model_cache=tmp_path / "cache"))
    assert resolved.source is ModelSource.LOCAL and resolved.path == (tmp_path / "m").resolve()


def test_directory_without_config_is_refused(tmp_path) -> None:
    with pytest.raises(UnsupportedModelError, match="config.json"):
        resolve_model(str(tmp_path), settings=ModelSettings(model_cache=tmp_path / "cache"))


def test_unprepared_bundled_model_says_how_to_prepare(tmp_path) -> None:
    with pytest.raises(ModelUnavailableError, match="models prepare") as info:
        resolve_model("smollm2-135m-instruct", settings=ModelSettings(model_cache=tmp_path))
    assert info.value.code == "model_unavailable"


def test_hub_id_offline_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelUnavailableError, match="local directory"):
        resolve_model("someorg/some-model", settings=ModelSettings(model_cache=tmp_path))


def test_hub_disabled_by_setting(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelUnavailableError):
        resolve_model("someorg/some-model", settings=ModelSettings(model_cache=tmp_path, allow_hub=False))


@pytest.mark.parametrize("spec", ["no such model", "../../no-such-dir-xyz", "a/b/c"])
def test_unknown_spec(spec, tmp_path) -> None:
    with pytest.raises(UnsupportedModelError, match="bundled model"):
        resolve_model(spec, settings=ModelSettings(model_cache=tmp_path))


def test_settings_from_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PRIVSYNTH_MODEL_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("PRIVSYNTH_ALLOW_HUB", "false")
    settings = ModelSettings()
    assert settings.model_cache == tmp_path / "c" and settings.allow_hub is False
