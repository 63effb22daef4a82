"""Moving LoRA weights between peft models and the codec's plain state dicts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from shared.lora import LoraSpec

if TYPE_CHECKING:
    import torch
    from peft import PeftModel

    from shared.adapters.codec import DecodedAdapter


def lora_state_dict(model: PeftModel, *, dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """The LoRA matrices of the active adapter, keyed as peft saves them (adapter name stripped)."""
    from peft import get_peft_model_state_dict

    tensors = get_peft_model_state_dict(model)
    out = {}
    for name, tensor in tensors.items():
        tensor = tensor.detach().to("cpu")
        out[name] = (tensor.to(dtype) if dtype is not None else tensor).contiguous()
    return out


def attach_lora(model: torch.nn.Module, spec: LoraSpec) -> PeftModel:
    """Wrap a base model with fresh (untrained) LoRA modules of ``spec``."""
    from peft import get_peft_model

    from shared.models.loading import MODEL_BUILD_LOCK

    with MODEL_BUILD_LOCK:
        return get_peft_model(model, spec.to_peft_config())


def load_lora(model: torch.nn.Module, adapter: DecodedAdapter) -> PeftModel:
    """Wrap a base model and load a decoded adapter's weights into it, failing on any missing key."""
    return set_lora_tensors(attach_lora(model, adapter.metadata.lora), adapter.tensors)


def set_lora_tensors(peft_model: PeftModel, tensors: Mapping[str, torch.Tensor]) -> PeftModel:
    """Copy LoRA matrices (keyed as ``lora_state_dict`` gives them) into an attached model, failing on any
    missing or unexpected key."""
    from peft import set_peft_model_state_dict

    result = set_peft_model_state_dict(peft_model, dict(tensors))
    missing_lora = [k for k in result.missing_keys if ".lora_" in k]
    if missing_lora or result.unexpected_keys:
        raise ValueError(
            f"adapter does not fit the model: missing {missing_lora[:3]}, unexpected {list(result.unexpected_keys)[:3]}"
        )
    return peft_model


@contextmanager
def adapter_applied(model: torch.nn.Module, adapter: DecodedAdapter | None) -> Iterator[torch.nn.Module]:
    """``model`` with ``adapter`` loaded (unmerged) inside the block and removed after it, so one loaded
    base model serves every adapter a run measures (None: the base model itself)."""
    if adapter is None:
        yield model
        return
    peft_model = load_lora(model, adapter)
    try:
        yield peft_model
    finally:
        peft_model.unload()
