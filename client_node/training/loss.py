"""Per-sequence loss: mean over each sequence's target tokens, then over the batch.

HF's ``labels=`` loss averages over all tokens of the batch, which couples examples (a long record
weighs more) and breaks the per-example view DP-SGD's clipping relies on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from client_node.training.examples import IGNORE_INDEX


def per_sequence_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Loss of each sequence, shape ``(batch,)``: next-token cross-entropy averaged over its targets."""
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    token_loss = F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1),
        ignore_index=IGNORE_INDEX, reduction="none",
    ).view(shift_labels.shape)
    mask = (shift_labels != IGNORE_INDEX).float()
    return (token_loss * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def batch_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean of per-sequence losses of one batch (the quantity DP-SGD differentiates)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return per_sequence_loss(logits, batch["labels"]).mean()
