"""The knowledge adapter's training on the tiny model: from fresh LoRA, or warm-started from its parent."""

from __future__ import annotations

import pytest
import torch

from server_node.pipeline.choices import KnowledgeStart
from server_node.pipeline.distill import Parent, train_knowledge_adapter
from shared.adapters import decode_adapter
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.training import TrainConfig
from tests.utils.adapters import encode_tiny_adapter

SAMPLES = [{"text": f"Sample number {i}: the dress fits well."} for i in range(8)]


def knowledge(start: KnowledgeStart, *, learning_rate: float, parent_as_adapter: bool = True):
    data, _, metadata, signature = encode_tiny_adapter(text=True)
    parent = decode_adapter(data, base=signature)
    config = TrainConfig(epsilon=float("inf"), epochs=1, batch_size=4, learning_rate=learning_rate, lora=metadata.lora,
                         max_length=160, seed=0)
    out = train_knowledge_adapter(model=make_tiny_llama(seed=0), tokenizer=make_tiny_tokenizer(), samples=SAMPLES,
                                  parent=parent if parent_as_adapter else Parent.of_adapter(parent), base=signature,
                                  description="reviews", config=config, start=start)
    return parent, decode_adapter(out, base=signature)


def test_a_knowledge_adapter_started_from_its_parent_keeps_the_parents_weights_at_first() -> None:
    parent, warm = knowledge(KnowledgeStart.PARENT, learning_rate=1e-12)
    assert warm.tensors.keys() == parent.tensors.keys()
    for name, tensor in parent.tensors.items():
        torch.testing.assert_close(warm.tensors[name].float(), tensor.float(), atol=1e-6, rtol=0)
    assert warm.metadata.certificate.inherited_from == parent.sha256
    _, fresh = knowledge(KnowledgeStart.BASE, learning_rate=1e-12)
    b = next(name for name in fresh.tensors if "lora_B" in name)
    assert fresh.tensors[b].abs().max() < 1e-9 < parent.tensors[b].abs().max()  # peft's init B = 0, not the parent


def test_starting_from_the_parent_needs_the_parents_weights() -> None:
    with pytest.raises(ValueError, match="only when the parent is an adapter"):
        knowledge(KnowledgeStart.PARENT, learning_rate=1e-3, parent_as_adapter=False)
