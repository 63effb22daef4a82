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


def physical_batches(batch: dict[str, torch.Tensor], max_size: int | None,
                     max_tokens: int | None = None) -> list[dict[str, torch.Tensor]]:
    """``batch`` cut into consecutive chunks of at most ``max_size`` examples and at most ``max_tokens``
    padded tokens (rows x longest row; an example longer than that gets a chunk of its own), each trimmed to
    its longest example. The whole batch when it fits both limits.

    Memory of a DP-LoRA step grows with the tokens of a pass (activations kept for backward and opacus'
    hooks: about 4.7 MB a token for SmolLM2-135M in fp32), so the token limit bounds a run's peak memory
    whatever its batch size. The step, its clipped gradient sum and its DP guarantee are the same.
    """
    size = int(batch["input_ids"].shape[0])
    lengths = batch["attention_mask"].sum(dim=1).tolist() if size else []
    if size == 0 or ((max_size is None or size <= max_size) and
                     (max_tokens is None or size * int(batch["input_ids"].shape[1]) <= max_tokens)):
        return [batch]
    bounds, start, longest = [], 0, 0
    for row, length in enumerate(lengths):
        count = row - start
        wider = max(longest, int(length))
        if count and ((max_size is not None and count + 1 > max_size) or
                      (max_tokens is not None and (count + 1) * wider > max_tokens)):
            bounds.append((start, row))
            start, wider = row, int(length)
        longest = wider
    bounds.append((start, size))
    chunks = []
    for a, b in bounds:
        length = int(max(lengths[a:b]))
        chunks.append({k: v[a:b, :length] for k, v in batch.items()})
    return chunks


TOKENS_PER_PASS = 8192


def physical_batch_for(max_length: int, tokens: int = TOKENS_PER_PASS) -> int:
    """Examples per forward pass so that a chunk holds at most ``tokens`` tokens of ``max_length``."""
    return max(1, tokens // max_length)
