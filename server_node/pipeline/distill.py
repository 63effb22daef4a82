"""Train: fit LoRA on the base model over the refined synthetic set -> the knowledge adapter.

No DP noise is added here: the samples already carry the client adapter's guarantee by post-processing,
so the knowledge adapter inherits that certificate (naming its parent's sha256) instead of a new one.
Instruction samples train a domain model (the instruction is the user turn); text samples train a
writer under the client adapter's own template.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.adapters import AdapterKind, AdapterMetadata, encode_adapter
from shared.adapters.codec import DecodedAdapter
from shared.models.architecture import BaseModelSignature
from shared.privacy import DPCertificate
from shared.prompts import GenerationTemplate, RecordFormat
from shared.records import Record
from shared.training import PrivateLoraTrainer, StepInfo, TrainConfig


@dataclass(frozen=True)
class Parent:
    """Where the samples' guarantee comes from: the DP adapter (or DP sample set) named by ``sha256``."""

    template: GenerationTemplate
    certificate: DPCertificate
    sha256: str

    @classmethod
    def of_adapter(cls, adapter: DecodedAdapter) -> Parent:
        return cls(adapter.metadata.template, adapter.metadata.certificate, adapter.sha256)


def knowledge_template(parent: GenerationTemplate, description: str) -> GenerationTemplate:
    if parent.record_format is RecordFormat.TEXT:
        return parent
    return GenerationTemplate.for_answering(description)


def train_knowledge_adapter(
    *,
    model: Any,
    tokenizer: Any,
    samples: Sequence[dict[str, str]],
    parent: Parent | DecodedAdapter,
    base: BaseModelSignature,
    description: str,
    config: TrainConfig,
    on_step: Callable[[StepInfo], None] | None = None,
) -> bytes:
    """Fine-tune ``model`` (modified in place) on ``samples`` and encode the adapter with its inherited certificate."""
    if isinstance(parent, DecodedAdapter):
        parent = Parent.of_adapter(parent)
    records = [Record(instruction=s.get("instruction", ""), input=s.get("input", ""), response=s.get("response", ""),
                      text=s.get("text", "")) for s in samples]
    config = config.model_copy(update={"epsilon": float("inf"), "batch_size": min(config.batch_size, len(records))})
    template = knowledge_template(parent.template, description)
    result = PrivateLoraTrainer(config=config, progress=False, on_step=on_step).train(
        model=model, tokenizer=tokenizer, records=records, template=template)
    metadata = AdapterMetadata(
        kind=AdapterKind.KNOWLEDGE, base_model=base.model_id, base_model_sha256=base.weights_sha256, lora=config.lora,
        template=template, certificate=parent.certificate.inherited(parent.sha256),
    )
    return encode_adapter(result.tensors, metadata)
