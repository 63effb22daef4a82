"""The adapter file contract: safetensors bytes with metadata and a DP certificate, validated on decode."""

from shared.adapters.codec import (
    DecodedAdapter,
    check_against_base,
    decode_adapter,
    decode_metadata,
    encode_adapter,
    lora_key,
)
from shared.adapters.header import AdapterLimits
from shared.adapters.metadata import AdapterKind, AdapterMetadata

__all__ = [
    "AdapterKind",
    "AdapterLimits",
    "AdapterMetadata",
    "DecodedAdapter",
    "check_against_base",
    "decode_adapter",
    "decode_metadata",
    "encode_adapter",
    "lora_key",
]
