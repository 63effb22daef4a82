"""Train: fit LoRA on the base model over the refined synthetic set -> the knowledge adapter.

It starts from fresh LoRA (``KnowledgeStart.BASE``) or from the client's DP adapter itself
(``KnowledgeStart.PARENT``: the DP adapter refined further on the graded samples, so what it learned of the
private data is kept, not relearned from a few hundred samples; post-processing too).

No DP noise is added here: the samples already carry the client adapter's guarantee by post-processing,
so the knowledge adapter inherits that certificate (naming its parent's sha256) instead of a new one.
Instruction samples train a domain model (the instruction is the user turn); text samples train a
writer under the client adapter's own template.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from server_node.pipeline.choices import KnowledgeStart
from shared.adapters import AdapterKind, AdapterMetadata, encode_adapter
from shared.adapters.codec import DecodedAdapter
from shared.models.architecture import BaseModelSignature
from shared.privacy import DPCertificate
from shared.prompts import GenerationTemplate, RecordFormat
from shared.records import Record
from shared.tables import TableSchema, parse_row_json
from shared.tables.neighbours import table_examples
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
    if parent.record_format in (RecordFormat.TEXT, RecordFormat.TABLE_ROW):
        return parent
    return GenerationTemplate.for_answering(description)


def train_knowledge_adapter(
    *,
    model: Any,
    tokenizer: Any,
    samples: Sequence[dict[str, Any]],
    parent: Parent | DecodedAdapter,
    base: BaseModelSignature,
    description: str,
    config: TrainConfig,
    table_neighbours: int = 5,
    seed: int = 0,
    start: KnowledgeStart = KnowledgeStart.BASE,
    on_step: Callable[[StepInfo], None] | None = None,
    on_pass: Callable[[], None] | None = None,
) -> bytes:
    """Fine-tune ``model`` (modified in place) on ``samples`` and encode the adapter with its inherited certificate.

    Raises:
        ValueError: ``start`` is the parent but ``parent`` is no adapter (DP samples), or its LoRA shape is
            not ``config.lora``.
    """
    initial = None
    if start is KnowledgeStart.PARENT:
        if not isinstance(parent, DecodedAdapter):
            raise ValueError("a knowledge adapter can start from its parent only when the parent is an adapter")
        if parent.metadata.lora != config.lora:
            raise ValueError("the knowledge adapter's LoRA shape differs from its parent's; it cannot start from it")
        initial = parent.tensors
    if isinstance(parent, DecodedAdapter):
        parent = Parent.of_adapter(parent)
    records = [Record(instruction=s.get("instruction", ""), input=s.get("input", ""), response=s.get("response", ""),
                      text=s.get("text", ""), conditions=_conditions(s, parent.template)) for s in samples]
    if parent.template.table is not None:  # rows -> HARMONIC examples among the synthetic rows themselves
        records = synthetic_table_examples(samples, parent.template.table, k=table_neighbours, seed=seed)
    config = config.model_copy(update={"epsilon": float("inf"), "batch_size": min(config.batch_size, len(records))})
    template = knowledge_template(parent.template, description)
    result = PrivateLoraTrainer(config=config, progress=False, on_step=on_step, on_pass=on_pass).train(
        model=model, tokenizer=tokenizer, records=records, template=template, initial=initial)
    metadata = AdapterMetadata(
        kind=AdapterKind.KNOWLEDGE, base_model=base.model_id, base_model_sha256=base.weights_sha256, lora=config.lora,
        template=template, certificate=parent.certificate.inherited(parent.sha256),
    )
    return encode_adapter(result.tensors, metadata)


def _conditions(sample: dict[str, Any], template: GenerationTemplate) -> tuple[tuple[str, str], ...]:
    """A sample's conditions when the knowledge adapter keeps the conditioned template (text records)."""
    if template.conditions is None or template.record_format is not RecordFormat.TEXT:
        return ()
    return tuple(sorted((sample.get("conditions") or {}).items()))


def synthetic_table_examples(samples: Sequence[dict[str, str]], schema: TableSchema, *, k: int, seed: int) -> list[Record]:
    """The knowledge adapter's examples: each synthetic row with its nearest synthetic rows (no private
    row is involved, so HARMONIC's construction is used as published, label filter included)."""
    rows = [row for row in (parse_row_json(s.get("text", "")) for s in samples) if row is not None]
    examples = table_examples(rows, rows, schema, k=k, rng=random.Random(seed), pool_is_targets=True)
    if not examples.records:  # every row failed the label filter: train on the rows themselves
        examples = table_examples(rows, rows, schema, k=k, rng=random.Random(seed), pool_is_targets=True,
                                  label_consistency=False)
    return examples.records
