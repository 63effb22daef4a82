"""Load a resolved model and its tokenizer, offline, in the precision the caller asks for."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from shared.config import ModelSettings
from shared.models.architecture import BaseModelSignature, linear_shapes_from_config, linear_shapes_of_model
from shared.models.fingerprint import weights_sha256_of_dir
from shared.models.resolve import ResolvedModel, resolve_model

if TYPE_CHECKING:
    import torch

    from shared.compute import Compute

DType = Literal["float32", "bfloat16", "float16"]

# transformers and peft build models under process-wide switches (the default dtype, meta-device init);
# two threads building at once corrupt each other's models (seen with 4 job workers: "expected m1 and m2 to
# have the same dtype", "Tensor on device meta"). Every build in this project takes this lock.
MODEL_BUILD_LOCK = threading.RLock()


@dataclass
class LoadedModel:
    """A causal LM, its tokenizer, and where they came from."""

    model: Any
    tokenizer: Any
    resolved: ResolvedModel
    _signature: BaseModelSignature | None = field(default=None, repr=False)

    def signature(self) -> BaseModelSignature:
        """Id, weights sha256 and linear shapes, for checking adapters against this model."""
        if self._signature is None:
            self._signature = BaseModelSignature(
                model_id=self.resolved.model_id,
                weights_sha256=weights_sha256_of_dir(self.resolved.path),
                linear_shapes=linear_shapes_of_model(self.model),
            )
        return self._signature


def signature_of(resolved: ResolvedModel) -> BaseModelSignature:
    """A model's signature from its directory alone (config and weights hash; no weights loaded)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(resolved.path))
    return BaseModelSignature(resolved.model_id, weights_sha256_of_dir(resolved.path), linear_shapes_from_config(config))


def torch_dtype(name: DType) -> torch.dtype:
    """The torch dtype for a precision name."""
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def load_causal_lm(
    spec: str | ResolvedModel,
    *,
    dtype: DType = "float32",
    device: str = "cpu",
    settings: ModelSettings | None = None,
    prepare: bool = False,
) -> LoadedModel:
    """Load a model spec (see ``resolve_model``) in eval mode on ``device``, with a padding token set.

    Loading never touches the network for bundled and local models. ``load_for`` takes a ``Compute``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    resolved = spec if isinstance(spec, ResolvedModel) else resolve_model(spec, settings=settings, prepare=prepare)
    with MODEL_BUILD_LOCK:
        tokenizer = AutoTokenizer.from_pretrained(str(resolved.path))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(str(resolved.path), dtype=torch_dtype(dtype))
        if device != "cpu":
            model = model.to(device)
        model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, resolved=resolved)


def load_for(spec: str | ResolvedModel, compute: Compute | None, *, settings: ModelSettings | None = None,
             prepare: bool = False) -> LoadedModel:
    """``load_causal_lm`` on the compute's device, in its precision's weight dtype (None: fp32 on the CPU)."""
    if compute is None:
        return load_causal_lm(spec, settings=settings, prepare=prepare)
    return load_causal_lm(spec, dtype=compute.load_dtype, device=compute.device,  # type: ignore[arg-type]
                          settings=settings, prepare=prepare)
