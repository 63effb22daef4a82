"""The sha256 that names a base model's weights, independent of file sharding and load dtype."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from shared.constants import MODEL_MANIFEST_NAME

if TYPE_CHECKING:
    import torch


def weights_sha256(tensors: Mapping[str, torch.Tensor]) -> str:
    """Hash name, dtype, shape and bytes of every tensor, in name order."""
    return _hash_items((name, tensors[name]) for name in sorted(tensors))


def weights_sha256_of_dir(path: Path) -> str:
    """The weights hash of a model directory's ``*.safetensors`` files (the manifest's value if present)."""
    manifest = path / MODEL_MANIFEST_NAME
    if manifest.is_file():
        recorded = json.loads(manifest.read_text()).get("weights_sha256")
        if recorded:
            return str(recorded)
    return compute_weights_sha256_of_dir(path)


def compute_weights_sha256_of_dir(path: Path) -> str:
    """Hash the tensors stored in a directory's safetensors files, ignoring any manifest."""
    from safetensors import safe_open

    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no *.safetensors weights in {path}")
    where: dict[str, Path] = {}
    for file in files:
        with safe_open(str(file), framework="pt") as handle:
            for name in handle.keys():  # noqa: SIM118 - safe_open has no __iter__
                where[name] = file

    def items() -> Iterable[tuple[str, torch.Tensor]]:
        handles = {file: safe_open(str(file), framework="pt") for file in files}
        for name in sorted(where):
            yield name, handles[where[name]].get_tensor(name)

    return _hash_items(items())


def _hash_items(items: Iterable[tuple[str, torch.Tensor]]) -> str:
    import torch

    digest = hashlib.sha256()
    for name, tensor in items:
        tensor = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}\0{str(tensor.dtype).removeprefix('torch.')}\0{list(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()
