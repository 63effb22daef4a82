"""A LoRA with random non-zero weights on the tiny random model (``shared.models.tiny``) with a made-up
certificate: for tests and the load benchmark, which need real adapter files without training one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.adapters.codec import encode_adapter
from shared.adapters.metadata import AdapterMetadata
from shared.adapters.peft_io import attach_lora, lora_state_dict
from shared.lora import LoraSpec
from shared.models import BaseModelSignature, linear_shapes_of_model, weights_sha256
from shared.models.tiny import make_tiny_llama
from shared.privacy import Accountant, DPCertificate, round_record_count
from shared.prompts import GenerationTemplate, RecordFormat

if TYPE_CHECKING:
    import torch

TINY_ID = "tiny-llama"


def make_certificate(**overrides: object) -> DPCertificate:
    values: dict[str, object] = {
        "epsilon": 8.0, "delta": 1e-5, "noise_multiplier": 0.9, "max_grad_norm": 1.0,
        "sample_rate": 0.05, "steps": 120, "accountant": Accountant.RDP,
        "training_records": round_record_count(1234),
    }
    values.update(overrides)
    return DPCertificate.model_validate(values)


def tiny_signature(model: Any) -> BaseModelSignature:
    return BaseModelSignature(TINY_ID, weights_sha256(model.state_dict()), linear_shapes_of_model(model))


def make_tiny_adapter(
    *, r: int = 4, targets: tuple[str, ...] = ("q_proj", "v_proj"), seed: int = 0, text: bool = False
) -> tuple[dict[str, torch.Tensor], AdapterMetadata, BaseModelSignature]:
    """A tiny base model's signature and a LoRA on it with non-zero A and B (so outputs change)."""
    base = make_tiny_llama(seed=seed)
    signature = tiny_signature(base)
    spec = LoraSpec(r=r, alpha=2.0 * r, target_modules=targets)
    peft_model = attach_lora(base, spec)
    import torch

    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
    tensors = lora_state_dict(peft_model)
    metadata = AdapterMetadata(
        base_model=TINY_ID,
        base_model_sha256=signature.weights_sha256,
        lora=spec,
        # The text layout parses any non-empty output, so a random tiny model yields usable samples.
        template=GenerationTemplate.for_task("patient questions and a doctor's answers",
                                             record_format=RecordFormat.TEXT if text else RecordFormat.INSTRUCTION_RESPONSE),
        certificate=make_certificate(),
    )
    return tensors, metadata, signature


def encode_tiny_adapter(**kwargs: object) -> tuple[bytes, dict[str, torch.Tensor], AdapterMetadata, BaseModelSignature]:
    tensors, metadata, signature = make_tiny_adapter(**kwargs)  # type: ignore[arg-type]
    return encode_adapter(tensors, metadata), tensors, metadata, signature

