"""Model specs -> weights on disk: a bundled default, a local directory, or a hub id (with network only)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from shared.config import ModelSettings, get_model_settings
from shared.constants import MODEL_MANIFEST_NAME
from shared.errors import ModelUnavailableError, UnsupportedModelError
from shared.models.bundled import BUNDLED_MODELS, get_bundled
from shared.models.prepare import is_prepared, prepare_model, prepared_dir

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelSource(StrEnum):
    """Where a resolved model's weights came from."""

    BUNDLED = "bundled"
    LOCAL = "local"
    HUB = "hub"


@dataclass(frozen=True)
class ResolvedModel:
    """A model spec pinned to a directory of transformers weights."""

    spec: str
    model_id: str
    path: Path
    source: ModelSource

    @cached_property
    def chat(self) -> bool:
        """Whether the tokenizer has a chat template (bundled manifest, else the tokenizer config); read once."""
        manifest = self.path / MODEL_MANIFEST_NAME
        if manifest.is_file():
            return bool(json.loads(manifest.read_text()).get("chat", False))
        return (self.path / "chat_template.jinja").is_file() or "chat_template" in _read_json(
            self.path / "tokenizer_config.json"
        )


def resolve_model(spec: str, *, settings: ModelSettings | None = None, prepare: bool = False) -> ResolvedModel:
    """Resolve ``spec`` to a local directory of weights.

    Args:
        spec: a bundled name (``smollm2-135m-instruct``, ``gemma3-270m``), a local directory holding a
            transformers checkpoint, or a Hugging Face hub id (``org/name``).
        settings: where the cache is and whether the hub may be used.
        prepare: convert a bundled model now if it is not prepared yet (else raise).

    Raises:
        ModelUnavailableError: known model, but its weights are not here and cannot be fetched.
        UnsupportedModelError: ``spec`` is none of the above.
    """
    settings = settings or get_model_settings()
    bundled = get_bundled(spec)
    if bundled is not None:
        if not is_prepared(bundled, settings.model_cache):
            if not prepare:
                raise ModelUnavailableError(
                    f"bundled model {bundled.name!r} is not prepared in {settings.model_cache}; "
                    "run `client-node models prepare` (or set PRIVSYNTH_MODEL_CACHE to where it is)",
                    detail={"model": bundled.name, "cache": str(settings.model_cache)},
                )
            prepare_model(bundled, settings.model_cache)
        return ResolvedModel(spec, bundled.name, prepared_dir(bundled, settings.model_cache), ModelSource.BUNDLED)

    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UnsupportedModelError(
                f"{path} is a directory but holds no config.json; point at a transformers checkpoint",
                detail={"path": str(path)},
            )
        return ResolvedModel(spec, str(path.resolve()), path.resolve(), ModelSource.LOCAL)

    if _HUB_ID.match(spec):
        return ResolvedModel(spec, spec, _from_hub(spec, settings), ModelSource.HUB)

    raise UnsupportedModelError(
        f"model spec {spec!r} is not a bundled model ({', '.join(sorted(BUNDLED_MODELS))}), "
        "an existing local directory, or a hub id like 'org/name'",
        detail={"spec": spec, "bundled": sorted(BUNDLED_MODELS)},
    )


def _from_hub(repo_id: str, settings: ModelSettings) -> Path:
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.model", "*.jinja", "*.txt"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True))
    except Exception:  # not in the local HF cache; fall through to the network if allowed
        pass
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
    if offline or not settings.allow_hub:
        raise ModelUnavailableError(
            f"{repo_id!r} is not in the local Hugging Face cache and hub downloads are off "
            "(HF_HUB_OFFLINE or PRIVSYNTH_ALLOW_HUB=false); download it on a machine with network "
            "and pass its local directory instead",
            detail={"model": repo_id},
        )
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as exc:
        raise ModelUnavailableError(
            f"could not download {repo_id!r} from the hub ({type(exc).__name__}); this machine may have no "
            "network: pass a local directory holding the checkpoint instead",
            detail={"model": repo_id, "error": type(exc).__name__},
        ) from None


def _read_json(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {}
