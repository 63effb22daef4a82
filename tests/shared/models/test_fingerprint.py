"""Weights fingerprints: stable across sharding and save/load, sensitive to any change."""

from __future__ import annotations

import torch

from shared.models import weights_sha256, weights_sha256_of_dir
from shared.models.fingerprint import compute_weights_sha256_of_dir
from shared.models.tiny import make_tiny_llama


def test_dir_hash_matches_in_memory_hash(tmp_path) -> None:
    model = make_tiny_llama(seed=3)
    model.save_pretrained(tmp_path, safe_serialization=True)
    assert compute_weights_sha256_of_dir(tmp_path) == weights_sha256(model.state_dict())
    assert weights_sha256_of_dir(tmp_path) == weights_sha256(model.state_dict())


def test_hash_changes_with_one_value_and_with_dtype() -> None:
    state = {k: v.clone() for k, v in make_tiny_llama().state_dict().items()}
    before = weights_sha256(state)
    first = sorted(state)[0]
    state[first].view(-1)[0] += 1e-3
    assert weights_sha256(state) != before
    assert weights_sha256({k: v.to(torch.bfloat16) for k, v in state.items()}) != weights_sha256(state)
