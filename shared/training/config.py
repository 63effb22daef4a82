"""Settings of one DP-LoRA training run, validated up front."""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.compute.precision import Precision
from shared.config import DEVICE_PATTERN
from shared.lora import LoraSpec
from shared.privacy import Accountant

__all__ = ["Precision", "TrainConfig", "tokens_per_pass_for"]

# Tokens per forward/backward pass that keep a default DP-LoRA run of SmolLM2-135M (with the client service
# around it) under 4 GB resident: about 2.4 MB a token with bf16 weights, 4.7 MB in fp32 (activations plus
# opacus' hooks; bench/memory.py). Passes of this size were also no slower than whole batches there.
_TOKENS_PER_PASS = {Precision.BF16: 768}
_DEFAULT_TOKENS_PER_PASS = 512


def tokens_per_pass_for(precision: Precision) -> int:
    """The default token limit of one pass for a concrete precision."""
    return _TOKENS_PER_PASS.get(precision, _DEFAULT_TOKENS_PER_PASS)


class PerSampleMode(StrEnum):
    AUTO = "auto"
    HOOKS = "hooks"
    GHOST = "ghost"

    def for_device(self, device: str) -> PerSampleMode:
        """auto: hooks on a CPU (every CPU figure of the project was measured with them); ghost clipping on CUDA,
        where per-sample gradients cost memory and time (the GPU comparison, ``bench/gpu.py``, is still to run)."""
        if self is not PerSampleMode.AUTO:
            return self
        return PerSampleMode.GHOST if device.startswith("cuda") else PerSampleMode.HOOKS


class TrainConfig(BaseModel):
    """A DP (finite epsilon) or non-private (epsilon = inf) LoRA fine-tuning run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epsilon: float = Field(8.0, gt=0, description="target epsilon; inf trains without DP (a baseline)")
    delta: float | None = Field(None, gt=0, lt=1, description="default: 1 / (10 N), below 1/N")
    max_grad_norm: float = Field(1.0, gt=0)
    epochs: int = Field(2, ge=1, le=1000)
    max_steps: int | None = Field(None, ge=1, description=(
        "stop after this many (Poisson) steps, before the epochs end: a compute budget for large private sets, "
        "which keeps every record in the sampling (the accountant charges the steps taken, each at rate B/N)"))
    batch_size: int = Field(16, ge=1, description="expected batch size (Poisson sampling rate = 1/ceil(N/B))")
    learning_rate: float = Field(3e-3, gt=0, le=1.0)
    lora: LoraSpec = Field(default_factory=LoraSpec)
    max_length: int = Field(256, ge=16, le=8192)
    max_physical_batch: int | None = Field(None, ge=1, description=(
        "run each (Poisson) batch through the model in chunks of at most this many examples: less memory "
        "for long examples; the step, its gradient and its DP guarantee are the same"))
    max_tokens_per_pass: int | None = Field(None, ge=0, description=(
        "and at most this many padded tokens per pass: bounds a step's memory (activations and opacus' hooks grow "
        "with the tokens of a pass); None: by precision (``tokens_per_pass_for``); 0: the whole batch at once"))
    accountant: Accountant = Accountant.RDP
    per_sample: PerSampleMode = Field(PerSampleMode.AUTO, description=(
        "how DP-SGD gets each example's clipped gradient: 'hooks' (opacus' per-sample gradients), 'ghost' (opacus' "
        "ghost clipping: per-sample norms, then a second backward of the clip-weighted loss), auto: by device"))
    device: str = Field("auto", pattern=DEVICE_PATTERN, description="auto, cpu, cuda or cuda:N")
    precision: Precision = Field(Precision.AUTO, description="auto: chosen per machine (shared.compute)")
    seed: int = 0

    @field_validator("accountant")
    @classmethod
    def _real_accountant(cls, value: Accountant) -> Accountant:
        if value is Accountant.NONE:
            raise ValueError("accountant 'none' is implied by epsilon = inf; choose rdp, prv or gdp")
        return value

    @property
    def private(self) -> bool:
        return math.isfinite(self.epsilon)

    def delta_for(self, n_records: int) -> float:
        """The run's delta: the configured one, else ``default_delta``."""
        return self.delta if self.delta is not None else default_delta(n_records)


def default_delta(n_records: int) -> float:
    """1/(10 N): well below 1/N, so a mechanism that publishes one record outright is not (epsilon, delta)-DP."""
    return 1.0 / (10 * max(1, n_records))
