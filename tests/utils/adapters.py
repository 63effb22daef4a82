"""Factories for adapters over the tiny random model (they live in ``shared.adapters.tiny``: the load
benchmark uses them too)."""

from shared.adapters.tiny import (
    TINY_ID,
    encode_tiny_adapter,
    make_certificate,
    make_tiny_adapter,
    tiny_signature,
)

__all__ = ["TINY_ID", "encode_tiny_adapter", "make_certificate", "make_tiny_adapter", "tiny_signature"]
