"""The LoRA configuration that travels with an adapter: rank, alpha and target module names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from peft import LoraConfig

DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoraSpec(BaseModel):
    """What a receiver needs to rebuild the adapter's modules; runtime knobs (dropout) stay out of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r: int = Field(8, ge=1, le=1024, description="LoRA rank")
    alpha: float = Field(16.0, gt=0, description="LoRA scaling numerator (scale = alpha / r)")
    target_modules: tuple[str, ...] = Field(DEFAULT_TARGET_MODULES, min_length=1, validate_default=True)

    @field_validator("target_modules")
    @classmethod
    def _names_are_identifiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name.replace("_", "").isalnum():
                raise ValueError(f"target module names must be plain identifiers, got {name!r}")
        if len(set(value)) != len(value):
            raise ValueError(f"target_modules has duplicates: {list(value)}")
        return tuple(sorted(value))

    def to_peft_config(self, *, dropout: float = 0.0) -> LoraConfig:
        """The peft ``LoraConfig`` for a causal LM with these settings."""
        from peft import LoraConfig

        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            target_modules=list(self.target_modules),
            lora_dropout=dropout,
            bias="none",
            task_type="CAUSAL_LM",
        )

    @classmethod
    def from_peft_config(cls, config: Any) -> LoraSpec:
        """Read rank, alpha and targets back from a peft ``LoraConfig``."""
        targets = config.target_modules
        if isinstance(targets, str):
            raise ValueError(f"regex target_modules are not supported, got {targets!r}; list module names")
        return cls(r=config.r, alpha=config.lora_alpha, target_modules=tuple(targets))
