"""The run report's utility figures: held-out loss of the base model, the DP adapter and the knowledge
adapter, each on the client's own held-out records (which never leave the client).

Two tasks, since the two adapters learn different things: *writing records* (the DP adapter's task,
under its data-free template) and *answering* (the knowledge adapter's task: the response given the
instruction). The base model is measured on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from client_node.evaluation.heldout import heldout_loss
from shared.adapters.codec import DecodedAdapter
from shared.adapters.peft_io import adapter_applied
from shared.models.loading import LoadedModel
from shared.prompts import GenerationTemplate, RecordFormat
from shared.records import Record


def utility_report(
    loaded: LoadedModel, records: Sequence[Record], *, dp: DecodedAdapter | None, knowledge: DecodedAdapter | None,
    max_length: int = 256,
) -> dict[str, Any]:
    """Held-out losses (lower is better) and how many records they cover: the base model, then each adapter
    applied to it and removed again (one loaded model for all). Without a DP adapter (training-free
    generation) the knowledge adapter is measured against the base model alone."""
    answering = knowledge.metadata.template if knowledge else GenerationTemplate.for_answering("answer")
    tasks: dict[str, GenerationTemplate] = {}
    if dp is not None:
        tasks["writing_records"] = dp.metadata.template
    elif answering.record_format is not RecordFormat.CHAT:
        tasks["writing_records"] = answering  # a text knowledge adapter writes records in its own template
    if answering.record_format is RecordFormat.CHAT and all(r.instruction for r in records):
        tasks["answering"] = answering

    def losses(adapter: DecodedAdapter | None) -> dict[str, float]:
        with adapter_applied(loaded.model, adapter) as model:
            return {task: heldout_loss(model, loaded.tokenizer, template, records, max_length=max_length)
                    for task, template in tasks.items()}

    report: dict[str, Any] = {"heldout_records": len(records), "base": losses(None)}
    if dp is not None:
        report["dp_adapter"] = losses(dp)
    if knowledge is not None:
        report["knowledge_adapter"] = losses(knowledge)
    return report
