"""The models this server hosts, known by their signatures before any weights are loaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import BaseModelNotHostedError
from shared.models.architecture import BaseModelSignature
from shared.models.loading import signature_of
from shared.models.resolve import ResolvedModel, resolve_model


@dataclass(frozen=True)
class HostedModel:
    resolved: ResolvedModel
    signature: BaseModelSignature


class HostedModels:
    """Base models by weights sha256 (what an adapter's metadata names), and the expert."""

    def __init__(self, base: list[HostedModel], expert: ResolvedModel | None) -> None:
        self.base = {m.signature.weights_sha256: m for m in base}
        self.expert = expert

    @classmethod
    def from_specs(cls, base_specs: list[str], expert_spec: str | None, *, settings: Any = None) -> HostedModels:
        """Resolve every spec and read each base model's signature from its config (no weights loaded)."""
        hosted = []
        for spec in base_specs:
            resolved = resolve_model(spec, settings=settings)
            hosted.append(HostedModel(resolved, signature_of(resolved)))
        expert = resolve_model(expert_spec, settings=settings) if expert_spec else None
        return cls(hosted, expert)

    def for_adapter(self, base_model: str, weights_sha256: str) -> HostedModel:
        try:
            return self.base[weights_sha256]
        except KeyError:
            raise BaseModelNotHostedError(
                f"this server does not host base model {base_model!r} (weights sha256 {weights_sha256[:12]}...); "
                f"hosted: {[m.signature.model_id for m in self.base.values()]}",
                detail={"base_model": base_model, "hosted": [
                    {"model_id": m.signature.model_id, "weights_sha256": m.signature.weights_sha256} for m in self.base.values()]},
            ) from None

    def by_name(self, base_model: str | None) -> HostedModel:
        """A hosted base by model id or weights sha256; ``None`` is the first (the server's default base)."""
        if base_model is None:
            return next(iter(self.base.values()))
        for model in self.base.values():
            if base_model in (model.signature.model_id, model.signature.weights_sha256):
                return model
        raise BaseModelNotHostedError(
            f"this server does not host base model {base_model!r}; hosted: "
            f"{[m.signature.model_id for m in self.base.values()]}",
            detail={"base_model": base_model, "hosted": [m.signature.model_id for m in self.base.values()]})
