"""Export a trained adapter through the shared codec, with the certificate of the run that made it."""

from __future__ import annotations

from shared.adapters import AdapterKind, AdapterMetadata, encode_adapter
from shared.models.architecture import BaseModelSignature
from shared.prompts import GenerationTemplate
from shared.training.engine import TrainResult


def export_adapter(result: TrainResult, *, base: BaseModelSignature, template: GenerationTemplate) -> bytes:
    """Safetensors bytes of ``result``'s LoRA weights (float32) with metadata and its DP certificate."""
    metadata = AdapterMetadata(
        kind=AdapterKind.DP,
        base_model=base.model_id,
        base_model_sha256=base.weights_sha256,
        lora=result.lora,
        template=template,
        certificate=result.certificate,
    )
    return encode_adapter(result.tensors, metadata)
