"""Held-out loss: how well a model writes the client's unseen records (the learning check for DP)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from shared.models.generation import model_device
from shared.prompts import GenerationTemplate
from shared.records import Record
from shared.training.data import ExampleDataset, make_collate
from shared.training.examples import tokenize_examples
from shared.training.loss import per_sequence_loss_of


def heldout_loss(
    model: Any, tokenizer: Any, template: GenerationTemplate, records: Sequence[Record], *,
    max_length: int = 256, batch_size: int = 16,
) -> float:
    """Mean per-record loss of the assistant turn (the record) under ``template``."""
    losses = per_record_losses(model, tokenizer, template, records, max_length=max_length, batch_size=batch_size)
    return sum(losses) / len(losses)


def per_record_losses(
    model: Any, tokenizer: Any, template: GenerationTemplate, records: Sequence[Record], *,
    max_length: int = 256, batch_size: int = 16,
) -> list[float]:
    """Each record's mean token loss of its assistant turn under ``template``, exactly as it is trained
    (the loss a membership-inference attacker thresholds)."""
    examples, _ = tokenize_examples(tokenizer, template, records, max_length=max_length)
    dataset = ExampleDataset(examples)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    collate = make_collate(pad)
    device = model_device(model)
    was_training = model.training
    model.eval()
    losses: list[torch.Tensor] = []
    with torch.inference_mode():
        for start in range(0, len(dataset), batch_size):
            batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))])
            losses.append(per_sequence_loss_of(model, {k: v.to(device) for k, v in batch.items()}))
    if was_training:
        model.train()
    return [float(x) for x in torch.cat(losses).float().cpu()]
