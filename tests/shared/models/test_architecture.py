"""Linear shapes from a config (meta device) equal those of a real instance."""

from __future__ import annotations

from shared.models import linear_shapes_from_config, linear_shapes_of_model
from shared.models.tiny import make_tiny_llama


def test_shapes_from_config_match_instance() -> None:
    model = make_tiny_llama(hidden_size=48, num_heads=4, num_kv_heads=2, intermediate_size=80)
    shapes = linear_shapes_from_config(model.config)
    assert shapes == linear_shapes_of_model(model)
    assert shapes["model.layers.0.self_attn.k_proj"] == (48, 24)
    assert shapes["model.layers.1.mlp.down_proj"] == (80, 48)
