"""Tokenized examples as a torch Dataset, and the collate function that right-pads a batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from shared.training.examples import IGNORE_INDEX, TokenizedExample


class ExampleDataset(Dataset[dict[str, torch.Tensor]]):
    """Examples by index; each item is unpadded (``collate_examples`` pads per batch)."""

    def __init__(self, examples: Sequence[TokenizedExample]) -> None:
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        example = self.examples[index]
        return {"input_ids": torch.tensor(example.input_ids), "labels": torch.tensor(example.labels)}


def make_collate(pad_token_id: int) -> Any:
    """A collate function padding on the right to the batch's longest example (labels padded with -100).

    Never called with an empty list: opacus' wrapper builds empty Poisson batches itself.
    """

    def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        length = max(item["input_ids"].numel() for item in items)
        input_ids = torch.full((len(items), length), pad_token_id, dtype=torch.long)
        labels = torch.full((len(items), length), IGNORE_INDEX, dtype=torch.long)
        attention = torch.zeros((len(items), length), dtype=torch.long)
        for row, item in enumerate(items):
            n = item["input_ids"].numel()
            input_ids[row, :n] = item["input_ids"]
            labels[row, :n] = item["labels"]
            attention[row, :n] = 1
        return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}

    return collate


def physical_batches(batch: dict[str, torch.Tensor], max_size: int | None) -> list[dict[str, torch.Tensor]]:
    """``batch`` cut into consecutive chunks of at most ``max_size`` examples, each trimmed to its longest
    example (the whole batch when ``max_size`` is None or not smaller)."""
    size = int(batch["input_ids"].shape[0])
    if max_size is None or size <= max_size:
        return [batch]
    chunks = []
    for start in range(0, size, max_size):
        mask = batch["attention_mask"][start : start + max_size]
        length = int(mask.sum(dim=1).max())
        chunks.append({k: v[start : start + max_size, :length] for k, v in batch.items()})
    return chunks


TOKENS_PER_PASS = 8192


def physical_batch_for(max_length: int, tokens: int = TOKENS_PER_PASS) -> int:
    """Examples per forward pass so that a chunk holds at most ``tokens`` tokens of ``max_length``."""
    return max(1, tokens // max_length)
