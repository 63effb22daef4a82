"""What a receiver knows about a base model to check an adapter: its id, weights hash and linear shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class BaseModelSignature:
    """A hosted base model as the adapter codec sees it.

    ``linear_shapes`` maps each ``nn.Linear`` module path (as in ``model.named_modules()``) to
    ``(in_features, out_features)``, the shapes a LoRA on that module must match.
    """

    model_id: str
    weights_sha256: str
    linear_shapes: dict[str, tuple[int, int]]


def linear_shapes_from_config(config: Any) -> dict[str, tuple[int, int]]:
    """Instantiate the architecture on the meta device (no memory, no weights) and list its linears."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return linear_shapes_of_model(model)


def linear_shapes_of_model(model: torch.nn.Module) -> dict[str, tuple[int, int]]:
    """``(in_features, out_features)`` of every ``nn.Linear`` in a (non-peft) model."""
    import torch

    return {
        name: (module.in_features, module.out_features)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
    }
