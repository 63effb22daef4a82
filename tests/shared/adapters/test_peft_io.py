"""LoRA weights survive peft -> codec -> peft: the reloaded model computes exactly the same logits."""

from __future__ import annotations

import torch

from shared.adapters import decode_adapter, encode_adapter
from shared.adapters.peft_io import attach_lora, load_lora, lora_state_dict
from shared.models.tiny import make_tiny_llama
from tests.utils.adapters import make_tiny_adapter


def test_reloaded_adapter_gives_identical_logits() -> None:
    # Prepare: a LoRA with non-zero weights on the tiny model, and its logits.
    tensors, metadata, signature = make_tiny_adapter(r=4, targets=("q_proj", "v_proj", "down_proj"))
    original = load_lora(make_tiny_llama(seed=0), decode_adapter(encode_adapter(tensors, metadata)))
    ids = torch.randint(3, 250, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = original(input_ids=ids).logits
        plain = make_tiny_llama(seed=0)(input_ids=ids).logits
    # Execute: encode, decode against the base signature, load onto a fresh copy of the base.
    decoded = decode_adapter(encode_adapter(lora_state_dict(original), metadata), base=signature)
    reloaded = load_lora(make_tiny_llama(seed=0), decoded)
    with torch.no_grad():
        got = reloaded(input_ids=ids).logits
    # Assert: same logits as before, and the adapter really changes the base model's output.
    assert torch.equal(got, expected)
    assert not torch.allclose(got, plain, atol=1e-4)


def test_state_dict_names_match_codec_keys() -> None:
    from shared.adapters import lora_key
    from shared.lora import LoraSpec

    peft_model = attach_lora(make_tiny_llama(), LoraSpec(r=2, alpha=4, target_modules=("q_proj",)))
    names = set(lora_state_dict(peft_model))
    assert lora_key("model.layers.0.self_attn.q_proj", "A") in names
    assert lora_key("model.layers.1.self_attn.q_proj", "B") in names
    assert len(names) == 4


def test_an_applied_adapter_changes_outputs_inside_the_block_and_leaves_the_base_after() -> None:
    import copy

    from shared.adapters.peft_io import adapter_applied

    tensors, metadata, _ = make_tiny_adapter()
    adapter = decode_adapter(encode_adapter(tensors, metadata))
    base = make_tiny_llama(seed=0)
    ids = torch.tensor([[5, 9, 23, 40]])
    with torch.no_grad():
        before = base(input_ids=ids).logits
        merged = load_lora(copy.deepcopy(base), adapter).merge_and_unload()(input_ids=ids).logits
        with adapter_applied(base, adapter) as model:
            inside = model(input_ids=ids).logits
        after = base(input_ids=ids).logits
        with adapter_applied(base, None) as model:
            assert model is base
    assert torch.allclose(inside, merged, atol=1e-5) and not torch.allclose(inside, before)
    assert torch.equal(after, before)
