"""Adapter codec: LoRA state dict + metadata <-> safetensors bytes, validated, never pickled."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.adapters.header import AdapterLimits, read_header
from shared.adapters.metadata import AdapterMetadata
from shared.errors import (
    AdapterDtypeError,
    AdapterFormatError,
    AdapterMissingTensorError,
    AdapterNonFiniteError,
    AdapterRankError,
    AdapterShapeError,
    AdapterUnknownTensorError,
    BaseModelMismatchError,
)
from shared.models.architecture import BaseModelSignature

if TYPE_CHECKING:
    import torch

# peft's saved names: "base_model.model." + module path + ".lora_A.weight" (adapter name stripped).
PEFT_PREFIX = "base_model.model."
_LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>[A-Za-z0-9_.]+)\.lora_(?P<which>[AB])\.weight$")
_TORCH_DTYPE_NAMES = {"torch.float32": "F32", "torch.bfloat16": "BF16", "torch.float16": "F16"}


@dataclass(frozen=True)
class DecodedAdapter:
    """A validated adapter: its tensors (CPU), its metadata, and the sha256 of the exact bytes."""

    tensors: dict[str, torch.Tensor]
    metadata: AdapterMetadata
    sha256: str
    nbytes: int


def lora_key(module_path: str, which: str) -> str:
    """The peft state-dict key of a LoRA matrix (``which`` is "A" or "B")."""
    return f"{PEFT_PREFIX}{module_path}.lora_{which}.weight"


def encode_adapter(tensors: Mapping[str, torch.Tensor], metadata: AdapterMetadata) -> bytes:
    """Serialize a LoRA state dict (peft names) with its metadata into safetensors bytes.

    Raises:
        AdapterDtypeError: a tensor is not float32, bfloat16 or float16.
        AdapterNonFiniteError: a tensor holds NaN or Inf (refused at the source, not only on receipt).
    """
    import torch

    if not tensors:
        raise AdapterMissingTensorError("refusing to encode an adapter with no tensors")
    clean: dict[str, torch.Tensor] = {}
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu")
        if str(tensor.dtype) not in _TORCH_DTYPE_NAMES:
            raise AdapterDtypeError(f"tensor {name!r} has dtype {tensor.dtype}; use float32, bfloat16 or float16")
        if not torch.isfinite(tensor).all():
            raise AdapterNonFiniteError(f"tensor {name!r} holds NaN or Inf values", detail={"tensor": name})
        clean[name] = tensor.contiguous()
    return _canonical_safetensors(clean, metadata.to_strings())


def decode_metadata(data: bytes, *, limits: AdapterLimits | None = None) -> AdapterMetadata:
    """Only the metadata (template, certificate, LoRA spec) of adapter bytes: the header is read and
    checked, no tensor is loaded.

    Raises:
        shared.errors.AdapterFormatError: or one of its subclasses (framing, size, metadata).
    """
    return AdapterMetadata.from_strings(read_header(data, limits or AdapterLimits()).metadata)


def decode_adapter(
    data: bytes,
    *,
    limits: AdapterLimits | None = None,
    base: BaseModelSignature | Callable[[AdapterMetadata], BaseModelSignature] | None = None,
) -> DecodedAdapter:
    """Parse and validate adapter bytes.

    Checks, in order: total size, pickle/zip magic, header framing and size, dtypes and offsets,
    metadata and DP certificate, rank limit, finiteness, and (if ``base`` is given) the base model
    identity and every tensor's name and shape against that model's LoRA targets.

    ``base`` may be a function of the parsed metadata: a server picks the hosted model the adapter
    names (and applies its own policy, raising its own errors) before any tensor is read.

    Raises:
        shared.errors.AdapterFormatError: or one of its subclasses, each with its own ``code``.
    """
    from safetensors.torch import load

    limits = limits or AdapterLimits()
    header = read_header(data, limits)
    metadata = AdapterMetadata.from_strings(header.metadata)
    if metadata.lora.r > limits.max_rank:
        raise AdapterRankError(
            f"LoRA rank {metadata.lora.r} is above the limit of {limits.max_rank}",
            detail={"rank": metadata.lora.r, "limit": limits.max_rank},
        )
    if not header.tensors:
        raise AdapterMissingTensorError("the adapter holds no tensors")
    signature = base(metadata) if callable(base) else base
    try:
        tensors = load(data)
    except Exception as exc:  # safetensors raises its own error types; all mean "malformed"
        raise AdapterFormatError(f"safetensors could not read the tensors: {exc}") from None
    _check_finite(tensors)
    if signature is not None:
        check_against_base(tensors, metadata, signature)
    return DecodedAdapter(
        tensors=tensors, metadata=metadata, sha256=hashlib.sha256(data).hexdigest(), nbytes=len(data)
    )


def check_against_base(
    tensors: Mapping[str, torch.Tensor], metadata: AdapterMetadata, base: BaseModelSignature
) -> None:
    """Require that the adapter was made for ``base`` and that it is a complete, well-shaped LoRA of it."""
    if metadata.base_model_sha256 != base.weights_sha256:
        raise BaseModelMismatchError(
            f"adapter was trained on base model {metadata.base_model!r} (weights sha256 "
            f"{metadata.base_model_sha256[:12]}...), not on {base.model_id!r} ({base.weights_sha256[:12]}...)",
            detail={"adapter_base_model": metadata.base_model, "adapter_base_sha256": metadata.base_model_sha256,
                    "expected_base_model": base.model_id, "expected_base_sha256": base.weights_sha256},
        )
    rank = metadata.lora.r
    targets = set(metadata.lora.target_modules)
    seen: dict[str, set[str]] = {}
    for name, tensor in tensors.items():
        match = _LORA_KEY.match(name)
        if match is None or match["module"] not in base.linear_shapes or match["module"].rsplit(".", 1)[-1] not in targets:
            raise AdapterUnknownTensorError(
                f"tensor {name!r} is not a LoRA weight of a target module ({sorted(targets)}) of {base.model_id!r}",
                detail={"tensor": name},
            )
        module, which = match["module"], match["which"]
        in_features, out_features = base.linear_shapes[module]
        expected = (rank, in_features) if which == "A" else (out_features, rank)
        if tuple(tensor.shape) != expected:
            raise AdapterShapeError(
                f"tensor {name!r} has shape {tuple(tensor.shape)}, expected {expected} (rank {rank})",
                detail={"tensor": name, "shape": list(tensor.shape), "expected": list(expected)},
            )
        seen.setdefault(module, set()).add(which)
    expected_modules = {m for m in base.linear_shapes if m.rsplit(".", 1)[-1] in targets}
    incomplete = sorted(m for m in expected_modules if seen.get(m) != {"A", "B"})
    if incomplete:
        raise AdapterMissingTensorError(
            f"{len(incomplete)} target modules lack lora_A or lora_B, e.g. {incomplete[0]!r}",
            detail={"modules": incomplete[:20]},
        )


def _canonical_safetensors(tensors: Mapping[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """Safetensors bytes with sorted keys and tensors in name order: equal inputs give equal bytes.

    (safetensors' own writer orders metadata keys differently from run to run, and adapters are named
    by the sha256 of their bytes.)
    """
    import torch

    header: dict[str, object] = {"__metadata__": dict(sorted(metadata.items()))}
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name]
        raw = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        header[name] = {"dtype": _TORCH_DTYPE_NAMES[str(tensor.dtype)], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":"), sort_keys=False).encode()
    encoded += b" " * (-len(encoded) % 8)  # align tensor data to 8 bytes, as safetensors does
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks)


def _check_finite(tensors: Mapping[str, torch.Tensor]) -> None:
    import torch

    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise AdapterNonFiniteError(f"tensor {name!r} holds NaN or Inf values", detail={"tensor": name})
