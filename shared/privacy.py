"""The DP certificate: the (epsilon, delta) guarantee of an adapter and the run that produced it."""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Accountant(StrEnum):
    """How epsilon was computed. ``none`` marks a non-private run (epsilon is infinite)."""

    RDP = "rdp"
    PRV = "prv"
    GDP = "gdp"
    NONE = "none"


class Mechanism(StrEnum):
    """What produced the guarantee."""

    DP_SGD = "dp-sgd"
    GAUSSIAN_VOTES = "gaussian-votes"  # training-free generation, Gaussian report-noisy-max per token
    LAPLACE_VOTES = "laplace-votes"  # the same with Laplace noise (pure epsilon)
    GAUSSIAN_STATISTICS = "gaussian-statistics"  # noisy counts and ranges of a table's columns
    MARGINALS = "marginals"  # AIM or MST (OpenDP): zCDP rho, charged as a Gaussian of noise 1/sqrt(2 rho)
    CONDITION_COUNTS = "condition-counts"  # Gaussian counts of the records' condition combinations
    POST_PROCESSING = "post-processing"
    NONE = "none"

    @property
    def composes_by_rdp(self) -> bool:
        """True for Gaussian mechanisms, whose spend is an opacus history the ledger composes by RDP."""
        return self in (Mechanism.DP_SGD, Mechanism.GAUSSIAN_VOTES, Mechanism.GAUSSIAN_STATISTICS,
                        Mechanism.MARGINALS, Mechanism.CONDITION_COUNTS)


def round_record_count(n: int) -> int:
    """Round a training-set size to two significant digits, so the certificate does not pin it exactly."""
    if n < 0:
        raise ValueError(f"record count must be >= 0, got {n}")
    if n < 100:
        return n
    digits = len(str(n)) - 2
    return int(round(n, -digits))


class DPCertificate(BaseModel):
    """The privacy claim that travels in an adapter's metadata.

    Every number comes from the accountant of the actual run; a non-private baseline says so with
    ``epsilon = inf`` and ``accountant = none`` rather than by omission. A knowledge adapter trained by the
    server on DP samples inherits the client's guarantee by post-processing and names its parent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="strings")

    epsilon: float = Field(gt=0, description="epsilon spent; inf for a non-private run")
    delta: float = Field(ge=0, lt=1)
    noise_multiplier: float = Field(ge=0)
    max_grad_norm: float = Field(gt=0, description="per-sample clipping norm; inf if none")
    sample_rate: float = Field(gt=0, le=1, description="Poisson sampling rate q")
    steps: int = Field(ge=0)
    accountant: Accountant
    training_records: int = Field(ge=0, description="training set size, rounded (round_record_count)")
    mechanism: Mechanism = Mechanism.DP_SGD
    inherited_from: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="sha256 of the DP adapter this guarantee comes from"
    )
    history: list[tuple[float, float, int]] | None = Field(
        None, max_length=64, description="the accountant history behind epsilon, (noise multiplier, sample rate, "
        "steps) entries, the run's earlier releases first: a receiver recomputes epsilon from it")
    releases: list[Mechanism] = Field(
        default_factory=list, max_length=8,
        description="the run's releases composed into epsilon before the mechanism's own (e.g. noisy condition counts)")

    @model_validator(mode="after")
    def _consistent(self) -> DPCertificate:
        if math.isnan(self.epsilon) or math.isnan(self.delta):
            raise ValueError("epsilon and delta must be numbers, not NaN")
        private = math.isfinite(self.epsilon)
        if not private and (self.accountant is not Accountant.NONE or self.mechanism is not Mechanism.NONE):
            raise ValueError("an infinite epsilon is a non-private run: accountant and mechanism must be 'none'")
        if private and self.accountant is Accountant.NONE:
            raise ValueError(f"a finite epsilon ({self.epsilon}) needs the accountant that computed it")
        if private and self.mechanism is Mechanism.DP_SGD and self.noise_multiplier <= 0:
            raise ValueError("DP-SGD with a finite epsilon needs noise_multiplier > 0")
        if self.mechanism is Mechanism.POST_PROCESSING and self.inherited_from is None:
            raise ValueError("a post-processing certificate must name the adapter it inherits from")
        if self.releases and not (private and self.history and len(self.history) > len(self.releases)):
            raise ValueError("composed releases need the private history they and the mechanism's steps make up")
        if self.history and any(s < 0 or not 0 < q <= 1 or n < 0 for s, q, n in self.history):
            raise ValueError("history entries are (noise multiplier >= 0, sample rate in (0, 1], steps >= 0)")
        return self

    @property
    def is_private(self) -> bool:
        """True when the run gave a finite (epsilon, delta) guarantee."""
        return math.isfinite(self.epsilon)

    @classmethod
    def non_private(cls, *, steps: int, sample_rate: float, training_records: int) -> DPCertificate:
        """The certificate of a baseline trained without DP (epsilon = infinity)."""
        return cls(
            epsilon=math.inf,
            delta=0.0,
            noise_multiplier=0.0,
            max_grad_norm=math.inf,
            sample_rate=sample_rate,
            steps=steps,
            accountant=Accountant.NONE,
            training_records=round_record_count(training_records),
            mechanism=Mechanism.NONE,
        )

    def inherited(self, parent_sha256: str) -> DPCertificate:
        """The same guarantee, carried by something derived from the adapter ``parent_sha256``."""
        if not self.is_private:
            return self.model_copy(update={"inherited_from": parent_sha256})
        return self.model_copy(update={"mechanism": Mechanism.POST_PROCESSING, "inherited_from": parent_sha256})
