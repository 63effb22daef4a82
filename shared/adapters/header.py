"""Checks a safetensors file's raw bytes before any library parses them: sizes, header, dtypes, offsets.

We read the 8-byte length and the JSON header ourselves so that every way a file can be wrong maps to one
coded error, and so that a pickle is recognised and refused without ever being touched by an unpickler.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field

from shared.constants import (
    ALLOWED_ADAPTER_DTYPES,
    DEFAULT_MAX_ADAPTER_BYTES,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_LORA_RANK,
)
from shared.errors import (
    AdapterDtypeError,
    AdapterFormatError,
    AdapterHeaderTooLargeError,
    AdapterNotSafetensorsError,
    AdapterTooLargeError,
    AdapterTruncatedError,
)

DTYPE_SIZES = {"F64": 8, "F32": 4, "BF16": 2, "F16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}

# Magic numbers of formats that must never reach a deserializer: pickle protocols 2-5 start with 0x80,
# torch.save writes a zip archive.
_PICKLE_PROTO = 0x80
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class AdapterLimits:
    """Upper bounds a receiver enforces on an adapter file."""

    max_total_bytes: int = DEFAULT_MAX_ADAPTER_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_rank: int = DEFAULT_MAX_LORA_RANK
    allowed_dtypes: tuple[str, ...] = ALLOWED_ADAPTER_DTYPES


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as the header describes it."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class SafetensorsHeader:
    """The parsed header: tensor entries and the string metadata map."""

    tensors: dict[str, TensorEntry]
    metadata: dict[str, str] = field(default_factory=dict)


def read_header(data: bytes, limits: AdapterLimits) -> SafetensorsHeader:
    """Validate the framing of a safetensors file and return its header.

    Raises:
        AdapterTooLargeError, AdapterNotSafetensorsError, AdapterTruncatedError,
        AdapterHeaderTooLargeError, AdapterDtypeError, AdapterFormatError.
    """
    if len(data) > limits.max_total_bytes:
        raise AdapterTooLargeError(
            f"adapter is {len(data)} bytes, above the limit of {limits.max_total_bytes}",
            detail={"size": len(data), "limit": limits.max_total_bytes},
        )
    # A safetensors file always has its JSON header's "{" at byte 8; only without it is the magic telling
    # (a header length may itself start with the byte 0x80).
    if data[8:9] != b"{" and (data[:1] == bytes([_PICKLE_PROTO]) or data[:4] == _ZIP_MAGIC):
        raise AdapterNotSafetensorsError(
            "this is a pickle or torch.save archive, not safetensors; pickles are never loaded. "
            "Save adapters with shared.adapters.encode_adapter",
            detail={"magic": data[:4].hex()},
        )
    if len(data) < 8:
        raise AdapterTruncatedError(f"adapter is only {len(data)} bytes; a safetensors file starts with 8", detail={"size": len(data)})
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > limits.max_header_bytes:
        raise AdapterHeaderTooLargeError(
            f"header declares {header_len} bytes, above the limit of {limits.max_header_bytes}",
            detail={"header_bytes": header_len, "limit": limits.max_header_bytes},
        )
    if 8 + header_len > len(data):
        raise AdapterTruncatedError(
            f"file ends inside its header ({len(data)} bytes, header needs {8 + header_len})",
            detail={"size": len(data), "needed": 8 + header_len},
        )
    raw = data[8 : 8 + header_len]
    if not raw.lstrip().startswith(b"{"):
        raise AdapterNotSafetensorsError("no safetensors JSON header found", detail={"magic": data[:4].hex()})
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise AdapterFormatError("safetensors header is not valid UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise AdapterFormatError("safetensors header must be a JSON object")

    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise AdapterFormatError("__metadata__ must map strings to strings")

    buffer_len = len(data) - 8 - header_len
    tensors = {name: _entry(name, spec, limits) for name, spec in header.items()}
    _check_offsets(tensors, buffer_len)
    return SafetensorsHeader(tensors=tensors, metadata=metadata)


def _entry(name: str, spec: object, limits: AdapterLimits) -> TensorEntry:
    if not isinstance(spec, dict) or not {"dtype", "shape", "data_offsets"} <= spec.keys():
        raise AdapterFormatError(f"tensor {name!r} lacks dtype, shape or data_offsets", detail={"tensor": name})
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if dtype not in limits.allowed_dtypes:
        raise AdapterDtypeError(
            f"tensor {name!r} has dtype {dtype!r}; allowed: {list(limits.allowed_dtypes)}",
            detail={"tensor": name, "dtype": dtype, "allowed": list(limits.allowed_dtypes)},
        )
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise AdapterFormatError(f"tensor {name!r} has a bad shape {shape!r}", detail={"tensor": name})
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and o >= 0 for o in offsets)):
        raise AdapterFormatError(f"tensor {name!r} has bad data_offsets {offsets!r}", detail={"tensor": name})
    start, end = offsets
    expected = math.prod(shape) * DTYPE_SIZES[dtype]
    if end - start != expected:
        raise AdapterFormatError(
            f"tensor {name!r} spans {end - start} bytes but shape {shape} of {dtype} needs {expected}",
            detail={"tensor": name},
        )
    return TensorEntry(name=name, dtype=dtype, shape=tuple(shape), start=start, end=end)


def _check_offsets(tensors: dict[str, TensorEntry], buffer_len: int) -> None:
    position = 0
    for entry in sorted(tensors.values(), key=lambda e: (e.start, e.end)):
        if entry.start != position:
            raise AdapterFormatError(
                f"tensor data is not contiguous at {entry.name!r} (starts at {entry.start}, expected {position})",
                detail={"tensor": entry.name},
            )
        position = entry.end
    if position > buffer_len:
        raise AdapterTruncatedError(
            f"tensor data needs {position} bytes but the file holds {buffer_len}",
            detail={"needed": position, "available": buffer_len},
        )
    if position < buffer_len:
        raise AdapterFormatError(f"{buffer_len - position} unexpected bytes after the tensor data")
