"""The tiny model factory: seeded, small, and usable with its byte-level tokenizer and chat template."""

from __future__ import annotations

import torch

from shared.models import weights_sha256
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer


def test_tiny_model_is_seeded_and_small() -> None:
    a, b, c = make_tiny_llama(seed=1), make_tiny_llama(seed=1), make_tiny_llama(seed=2)
    assert weights_sha256(a.state_dict()) == weights_sha256(b.state_dict()) != weights_sha256(c.state_dict())
    assert sum(p.numel() for p in a.parameters()) < 100_000


def test_tokenizer_round_trips_text_and_fits_the_model() -> None:
    tokenizer = make_tiny_tokenizer()
    model = make_tiny_llama()
    text = "Patient: héllo, 42 ✓"
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert max(ids) < model.config.vocab_size and len(tokenizer) <= model.config.vocab_size
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\n")
    batch = tokenizer([prompt, "x"], return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape[:2] == batch["input_ids"].shape and torch.isfinite(logits).all()
