"""opacus' per-sample gradients on a right-padded peft batch equal one-example-at-a-time gradients."""

from __future__ import annotations

import torch
from opacus import GradSampleModule

from shared.adapters.peft_io import attach_lora
from shared.models.tiny import make_tiny_llama
from shared.training.data import ExampleDataset, make_collate
from shared.training.examples import TokenizedExample
from shared.training.loss import batch_loss
from tests.utils.training import TINY_LORA


def _lora_model() -> torch.nn.Module:
    model = attach_lora(make_tiny_llama(seed=0), TINY_LORA)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():  # non-zero B, so gradients of A are non-zero too
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.2)
    return model


def test_per_sample_gradients_match_single_example_gradients() -> None:
    # Prepare: four examples of different lengths, right-padded into one batch.
    examples = [
        TokenizedExample(list(range(3, 3 + n)), [-100] * 2 + list(range(5, 3 + n))) for n in (5, 9, 14, 7)
    ]
    dataset, collate = ExampleDataset(examples), make_collate(0)
    model = _lora_model()
    gsm = GradSampleModule(model, batch_first=True, loss_reduction="mean")
    params = [(n, p) for n, p in gsm.named_parameters() if p.requires_grad]
    # Execute: one batched backward with hooks.
    batch_loss(gsm, collate([dataset[i] for i in range(4)])).backward()
    per_sample = {n: p.grad_sample.detach().clone() for n, p in params}
    # Assert: each row equals the gradient of that example alone (no padding).
    for i in range(4):
        gsm.zero_grad(set_to_none=True)
        for _, p in params:
            p.grad_sample = None
        batch_loss(gsm, collate([dataset[i]])).backward()
        for name, p in params:
            expected = p.grad.detach()
            got = per_sample[name][i]
            rel = (got - expected).norm() / expected.norm().clamp(min=1e-12)
            assert rel < 1e-4, f"{name} example {i}: relative error {rel:.2e}"


def test_physical_batches_give_the_same_per_sample_gradients() -> None:
    """A batch run in chunks (max_physical_batch): opacus concatenates the passes' per-sample gradients,
    which equal those of one pass over the whole batch."""
    from shared.training.data import physical_batches

    examples = [TokenizedExample(list(range(3, 3 + n)), [-100] * 2 + list(range(5, 3 + n))) for n in (5, 9, 14, 7, 4)]
    dataset, collate = ExampleDataset(examples), make_collate(0)
    batch = collate([dataset[i] for i in range(5)])
    gsm = GradSampleModule(_lora_model(), batch_first=True, loss_reduction="mean")
    params = [(n, p) for n, p in gsm.named_parameters() if p.requires_grad]
    batch_loss(gsm, batch).backward()
    whole = {n: p.grad_sample.detach().clone() for n, p in params}
    for _, p in params:
        p.grad_sample = None
    chunks = physical_batches(batch, 2)
    assert [c["input_ids"].shape for c in chunks] == [(2, 9), (2, 14), (1, 4)]  # trimmed to each chunk's longest
    for chunk in chunks:
        batch_loss(gsm, chunk).backward()
    for name, p in params:
        got = torch.cat(p.grad_sample, dim=0)
        rel = (got - whole[name]).norm() / whole[name].norm().clamp(min=1e-12)
        assert rel < 1e-4, f"{name}: relative error {rel:.2e}"
    assert physical_batches(batch, None) == [batch] and physical_batches(batch, 5) == [batch]


def test_token_limited_chunks_hold_at_most_their_tokens_and_every_row_once() -> None:
    from shared.training.data import physical_batches

    examples = [TokenizedExample(list(range(3, 3 + n)), [-100] * 2 + list(range(5, 3 + n))) for n in (5, 9, 14, 7, 4)]
    dataset, collate = ExampleDataset(examples), make_collate(0)
    batch = collate([dataset[i] for i in range(5)])
    for tokens in (10, 20, 28, 40):
        chunks = physical_batches(batch, None, tokens)
        assert sum(int(c["input_ids"].shape[0]) for c in chunks) == 5
        assert all(c["input_ids"].numel() <= max(tokens, 14) for c in chunks)
        rebuilt = torch.cat([torch.nn.functional.pad(c["input_ids"], (0, 14 - c["input_ids"].shape[1])) for c in chunks])
        assert torch.equal(rebuilt, batch["input_ids"])
    assert physical_batches(batch, None, 70) == [batch] and physical_batches(batch, None, None) == [batch]
