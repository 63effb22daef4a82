"""The Laplace mechanism: noise Lap(sensitivity / epsilon) on each coordinate gives pure epsilon-DP when
one record changes the query's output by at most ``sensitivity`` in L1 norm (Dwork & Roth, Thm 3.6)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shared.mechanisms.sampling import laplace_noised


@dataclass(frozen=True)
class LaplaceMechanism:
    """``epsilon``-DP release of a query with L1 sensitivity ``sensitivity``."""

    epsilon: float
    sensitivity: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ValueError(f"Laplace epsilon must be finite and > 0, got {self.epsilon}")
        if not (math.isfinite(self.sensitivity) and self.sensitivity > 0):
            raise ValueError(f"sensitivity must be finite and > 0, got {self.sensitivity}")

    @property
    def scale(self) -> float:
        """The Laplace scale b = sensitivity / epsilon (noise standard deviation is b * sqrt(2))."""
        return self.sensitivity / self.epsilon

    @property
    def delta(self) -> float:
        return 0.0

    def randomise(self, values: np.ndarray | float) -> np.ndarray:
        """``values`` plus independent Laplace noise on every coordinate (OpenDP's exact sampler)."""
        return laplace_noised(values, self.scale)

    def composed_epsilon(self, times: int) -> float:
        """Pure epsilon of ``times`` releases (basic composition, exact for pure DP's worst case)."""
        return self.epsilon * times
