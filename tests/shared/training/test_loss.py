"""Per-sequence loss: padding and other examples in the batch do not change an example's loss."""

from __future__ import annotations

import torch

from shared.models.tiny import make_tiny_llama
from shared.training.data import ExampleDataset, make_collate
from shared.training.examples import TokenizedExample
from shared.training.loss import per_sequence_loss


def test_loss_of_each_sequence_is_independent_of_padding() -> None:
    model = make_tiny_llama()
    short = TokenizedExample(input_ids=[5, 6, 7, 8], labels=[-100, -100, 7, 8])
    long = TokenizedExample(input_ids=list(range(10, 30)), labels=[-100] * 5 + list(range(15, 30)))
    collate = make_collate(0)
    dataset = ExampleDataset([short, long])
    with torch.no_grad():
        batch = collate([dataset[0], dataset[1]])
        together = per_sequence_loss(model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits, batch["labels"])
        for i in range(2):
            alone = collate([dataset[i]])
            single = per_sequence_loss(model(input_ids=alone["input_ids"], attention_mask=alone["attention_mask"]).logits, alone["labels"])
            assert torch.allclose(together[i], single[0], atol=1e-5)


def test_target_only_logits_equal_full_logits_loss() -> None:
    from shared.training.loss import per_sequence_loss_of

    model = make_tiny_llama(seed=2)
    examples = [TokenizedExample(list(range(3, 3 + n)), [-100] * 4 + list(range(7, 3 + n))) for n in (6, 11, 9)]
    dataset, collate = ExampleDataset(examples), make_collate(0)
    batch = collate([dataset[i] for i in range(3)])
    with torch.no_grad():
        full = per_sequence_loss(model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits, batch["labels"])
        fast = per_sequence_loss_of(model, batch)
    assert torch.allclose(full, fast, atol=1e-5)
