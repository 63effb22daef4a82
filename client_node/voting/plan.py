"""How much each token costs and how many tokens a budget buys.

Every generated token is one report-noisy-max query over one stratum's groups. A record sits in one
stratum, so its privacy loss is the composition of that stratum's queries only: the plan bounds the
tokens any stratum may spend (``tokens_per_stratum``) and the guarantee is that many queries composed.
Gaussian queries compose by RDP (opacus' accountant, the ledger's own); Laplace queries by basic
composition of pure epsilon. Generation stops when a stratum has spent its tokens (a privacy filter:
the stopping rule depends only on released tokens, so the guarantee is the planned one, never less).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from shared.errors import TrainingConfigError
from shared.mechanisms import GaussianMechanism, VoteAggregator
from shared.mechanisms.gaussian import gaussian_epsilon
from shared.privacy import Accountant, Mechanism
from shared.training.accounting import epsilon_of_history, noise_for_target


class VoteNoise(StrEnum):
    GAUSSIAN = "gaussian"
    LAPLACE = "laplace"


@dataclass(frozen=True)
class VotePlan:
    """The noise per query and the number of queries a stratum may make, with their guarantee."""

    noise: VoteNoise
    epsilon: float  # the guarantee of all planned queries of one stratum (= of the whole run)
    delta: float
    tokens_per_stratum: int
    max_new_tokens: int
    noise_multiplier: float | None  # Gaussian: sigma / L2 sensitivity
    epsilon_per_token: float  # Laplace: pure epsilon; Gaussian: epsilon of one query at delta (exact)

    @property
    def mechanism(self) -> Mechanism:
        return Mechanism.GAUSSIAN_VOTES if self.noise is VoteNoise.GAUSSIAN else Mechanism.LAPLACE_VOTES

    @property
    def accountant(self) -> Accountant:
        return Accountant.RDP  # Gaussian by RDP; Laplace's pure epsilon is reported under the same name

    def aggregator(self) -> VoteAggregator:
        if self.noise is VoteNoise.GAUSSIAN:
            assert self.noise_multiplier is not None
            return VoteAggregator.gaussian(self.noise_multiplier)
        return VoteAggregator.laplace(self.epsilon_per_token)

    def history(self, tokens: int) -> list[tuple[float, float, int]] | None:
        """``tokens`` queries as an opacus history (Gaussian), or ``None`` (Laplace)."""
        return self.aggregator().history(tokens)

    def epsilon_of(self, tokens: int) -> float:
        """The guarantee of ``tokens`` queries of one stratum, as the ledger computes it."""
        if tokens <= 0:
            return 0.0
        if self.noise is VoteNoise.LAPLACE:
            return self.epsilon_per_token * tokens
        return epsilon_of_history(self.history(tokens) or [], delta=self.delta, accountant=Accountant.RDP)

    def epsilon_per_sample(self) -> float:
        """The guarantee of one whole sample (``max_new_tokens`` queries)."""
        return self.epsilon_of(self.max_new_tokens)

    def exact_epsilon(self) -> float:
        """Gaussian only: the exact epsilon of all planned queries (T Gaussian releases are one release
        with noise multiplier z / sqrt(T)); lower than the RDP figure the ledger charges."""
        if self.noise_multiplier is None:
            return self.epsilon
        return gaussian_epsilon(sigma=self.noise_multiplier / math.sqrt(self.tokens_per_stratum), delta=self.delta)

    def as_dict(self) -> dict[str, object]:
        return {"noise": self.noise.value, "epsilon": self.epsilon, "delta": self.delta,
                "tokens_per_stratum": self.tokens_per_stratum, "max_new_tokens": self.max_new_tokens,
                "noise_multiplier": self.noise_multiplier, "epsilon_per_token": self.epsilon_per_token,
                "epsilon_per_sample": self.epsilon_per_sample(), "exact_epsilon": self.exact_epsilon(),
                "noise_scale": self.aggregator().noise_scale}


def plan_votes(
    *, epsilon: float, delta: float, noise: VoteNoise, samples_per_stratum: int, max_new_tokens: int,
    noise_multiplier: float | None = None,
) -> VotePlan:
    """Calibrate the noise so ``samples_per_stratum`` samples of up to ``max_new_tokens`` tokens spend
    ``epsilon``; or, given a Gaussian ``noise_multiplier``, the most tokens that fit ``epsilon``.

    Raises:
        TrainingConfigError: the budget buys not a single token at the given noise.
    """
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise TrainingConfigError(f"vote generation needs a finite epsilon > 0, got {epsilon}")
    if noise is VoteNoise.GAUSSIAN and not 0 < delta < 1:
        raise TrainingConfigError(f"Gaussian votes need 0 < delta < 1, got {delta}")
    if noise is VoteNoise.LAPLACE:
        delta = 0.0
    tokens = samples_per_stratum * max_new_tokens
    if tokens < 1:
        raise TrainingConfigError("vote generation needs at least one sample of at least one token")
    if noise is VoteNoise.LAPLACE:
        return VotePlan(noise, epsilon, 0.0, tokens, max_new_tokens, None, epsilon / tokens)
    if noise_multiplier is None:
        noise_multiplier = noise_for_target(epsilon=epsilon, delta=delta, sample_rate=1.0, steps=tokens)
    else:
        tokens = _tokens_within(epsilon, delta, noise_multiplier, upper=tokens)
    one = GaussianMechanism.from_noise_multiplier(noise_multiplier).epsilon_at(delta)
    plan = VotePlan(noise, epsilon, delta, tokens, max_new_tokens, noise_multiplier, one)
    return replace(plan, epsilon=plan.epsilon_of(tokens))  # what the planned tokens really spend (<= the target)


def _tokens_within(epsilon: float, delta: float, noise_multiplier: float, *, upper: int) -> int:
    """The largest T <= upper with T Gaussian queries spending at most epsilon (RDP), by bisection."""
    def spend(t: int) -> float:
        return epsilon_of_history([(noise_multiplier, 1.0, t)], delta=delta, accountant=Accountant.RDP)

    if spend(1) > epsilon:
        raise TrainingConfigError(
            f"noise multiplier {noise_multiplier} spends {spend(1):.3f} on a single token, above the budget {epsilon}",
            detail={"noise_multiplier": noise_multiplier, "epsilon": epsilon})
    low, high = 1, upper
    if spend(high) <= epsilon:
        return high
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if spend(mid) <= epsilon else (low, mid)
    return low
