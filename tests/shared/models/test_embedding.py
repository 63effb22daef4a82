"""Sentence embeddings: unit length, padding does not change them, near duplicates are found in order."""

from __future__ import annotations

import pytest
import torch

from shared.models.embedding import SentenceEmbedder, near_duplicate_mask
from shared.models.tiny import make_tiny_tokenizer


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = make_tiny_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    return SentenceEmbedder(model=BertModel(config).eval(), tokenizer=tokenizer, max_length=64)


def test_embeddings_are_unit_length_and_independent_of_padding(embedder: SentenceEmbedder) -> None:
    alone = embedder.embed(["short text"])
    batched = embedder.embed(["short text", "a much longer text that forces padding of the first one"])
    assert torch.allclose(alone.norm(dim=-1), torch.ones(1), atol=1e-5)
    assert torch.allclose(alone[0], batched[0], atol=1e-5)
    assert embedder.embed([]).shape == (0, 32)


def test_near_duplicates_drop_later_copies_only(embedder: SentenceEmbedder) -> None:
    texts = ["first sample", "second, different sample", "first sample", "third one here"]
    drop = near_duplicate_mask(embedder.embed(texts), threshold=0.999)
    assert drop == [False, False, True, False]


def test_threshold_above_one_keeps_everything() -> None:
    vectors = torch.nn.functional.normalize(torch.ones(3, 4), dim=-1)
    assert near_duplicate_mask(vectors, threshold=1.01) == [False, False, False]
    assert near_duplicate_mask(vectors, threshold=0.5) == [False, True, True]
