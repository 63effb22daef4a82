"""The Gaussian mechanism, accounted exactly.

(epsilon, delta): the analytic Gaussian mechanism of Balle & Wang (ICML 2018, Thm 8): noise N(0, sigma^2)
on a query with L2 sensitivity D is (epsilon, delta)-DP exactly when
    delta >= Phi(D / (2 sigma) - epsilon sigma / D) - e^epsilon Phi(-D / (2 sigma) - epsilon sigma / D),
which is tight (the classical sigma = D sqrt(2 ln(1.25 / delta)) / epsilon is looser and needs epsilon < 1).
RDP: order alpha costs alpha D^2 / (2 sigma^2) (Mironov 2017), the same curve opacus computes for a
"subsampled" Gaussian with sample rate 1 and noise multiplier sigma / D. That is how the ledger
composes these releases with DP-SGD runs: one history entry ``(sigma / D, 1.0, releases)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shared.mechanisms.sampling import gaussian_noised

_BISECTION_STEPS = 200


def _phi(x: float) -> float:
    """Standard normal CDF, accurate in the far tails (erfc, not 1 - erf)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def gaussian_delta(*, sigma: float, epsilon: float, sensitivity: float = 1.0) -> float:
    """The smallest delta for which N(0, sigma^2) noise is (epsilon, delta)-DP (Balle & Wang, Thm 8)."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    a = sensitivity / (2.0 * sigma)
    b = epsilon * sigma / sensitivity
    first = _phi(a - b)
    if epsilon > 700:  # e^epsilon overflows; the second term is then e^eps * Phi(-huge), i.e. 0
        return max(0.0, first)
    return max(0.0, first - math.exp(epsilon) * _phi(-a - b))


def gaussian_epsilon(*, sigma: float, delta: float, sensitivity: float = 1.0) -> float:
    """The smallest epsilon at which N(0, sigma^2) noise is (epsilon, delta)-DP (bisection on the exact delta)."""
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if gaussian_delta(sigma=sigma, epsilon=0.0, sensitivity=sensitivity) <= delta:
        return 0.0
    low, high = 0.0, 1.0
    while gaussian_delta(sigma=sigma, epsilon=high, sensitivity=sensitivity) > delta:
        low, high = high, high * 2
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        if gaussian_delta(sigma=sigma, epsilon=mid, sensitivity=sensitivity) > delta:
            low = mid
        else:
            high = mid
    return high


def gaussian_sigma(*, epsilon: float, delta: float, sensitivity: float = 1.0) -> float:
    """The smallest sigma for which N(0, sigma^2) noise is (epsilon, delta)-DP (bisection on the exact delta)."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be finite and > 0, got {epsilon}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    low, high = 0.0, sensitivity
    while gaussian_delta(sigma=high, epsilon=epsilon, sensitivity=sensitivity) > delta:
        low, high = high, high * 2
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        if mid > 0 and gaussian_delta(sigma=mid, epsilon=epsilon, sensitivity=sensitivity) <= delta:
            high = mid
        else:
            low = mid
    return high


def classical_sigma(*, epsilon: float, delta: float, sensitivity: float = 1.0) -> float:
    """Dwork & Roth's Thm A.1 calibration, sigma = D sqrt(2 ln(1.25/delta)) / epsilon (valid for epsilon < 1)."""
    if not 0 < epsilon < 1:
        raise ValueError(f"the classical calibration holds only for 0 < epsilon < 1, got {epsilon}")
    return sensitivity * math.sqrt(2.0 * math.log(1.25 / delta)) / epsilon


@dataclass(frozen=True)
class GaussianMechanism:
    """N(0, sigma^2) noise on a query with L2 sensitivity ``sensitivity``."""

    sigma: float
    sensitivity: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be finite and > 0, got {self.sigma}")
        if not (math.isfinite(self.sensitivity) and self.sensitivity > 0):
            raise ValueError(f"sensitivity must be finite and > 0, got {self.sensitivity}")

    @classmethod
    def calibrated(cls, *, epsilon: float, delta: float, sensitivity: float = 1.0) -> GaussianMechanism:
        """The least noise that makes one release (epsilon, delta)-DP, by the exact analytic bound."""
        return cls(sigma=gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity), sensitivity=sensitivity)

    @classmethod
    def from_noise_multiplier(cls, noise_multiplier: float, *, sensitivity: float = 1.0) -> GaussianMechanism:
        return cls(sigma=noise_multiplier * sensitivity, sensitivity=sensitivity)

    @property
    def noise_multiplier(self) -> float:
        """sigma / sensitivity: what opacus calls the noise multiplier."""
        return self.sigma / self.sensitivity

    def randomise(self, values: np.ndarray | float) -> np.ndarray:
        """``values`` plus independent N(0, sigma^2) noise on every coordinate (OpenDP's exact sampler)."""
        return gaussian_noised(values, self.sigma)

    def delta_at(self, epsilon: float) -> float:
        """Exact delta of one release at ``epsilon``."""
        return gaussian_delta(sigma=self.sigma, epsilon=epsilon, sensitivity=self.sensitivity)

    def epsilon_at(self, delta: float) -> float:
        """Exact epsilon of one release at ``delta``."""
        return gaussian_epsilon(sigma=self.sigma, delta=delta, sensitivity=self.sensitivity)

    def rdp(self, alpha: float) -> float:
        """Renyi DP of one release at order ``alpha``: alpha D^2 / (2 sigma^2)."""
        if alpha <= 1:
            raise ValueError(f"RDP order must be > 1, got {alpha}")
        return alpha / (2.0 * self.noise_multiplier**2)

    def history(self, releases: int) -> list[tuple[float, float, int]]:
        """``releases`` of this mechanism as an opacus accountant history (sample rate 1: no subsampling)."""
        return [(self.noise_multiplier, 1.0, int(releases))] if releases > 0 else []
