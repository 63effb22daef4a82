"""The precisions a model can compute in; LoRA weights and optimizer state stay float32 in every mode."""

from __future__ import annotations

from enum import StrEnum


class Precision(StrEnum):
    """How the frozen base model computes."""

    AUTO = "auto"  # decided per machine by ``resolve_compute``
    FP32 = "fp32"
    BF16 = "bf16"  # base weights stored in bfloat16: half the memory; fast only where bf16 is native
    BF16_AUTOCAST = "bf16-autocast"  # float32 weights, bfloat16 matmuls through autocast

    @property
    def load_dtype(self) -> str:
        """The dtype name to load weights in (``shared.models.loading.DType``)."""
        return "bfloat16" if self is Precision.BF16 else "float32"
