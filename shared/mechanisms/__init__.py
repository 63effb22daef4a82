"""Noise mechanisms with explicit sensitivity and exact accounting (the SafeSynthDP building blocks).

- ``LaplaceMechanism``: pure epsilon-DP for an L1 sensitivity (scale = sensitivity / epsilon).
- ``GaussianMechanism``: (epsilon, delta)-DP by the exact analytic bound of Balle & Wang (2018), and RDP
  ``alpha * sensitivity^2 / (2 sigma^2)``; it enters the ledger as an opacus history entry with sample
  rate 1, so it composes with DP-SGD runs in one RDP accountant.
- ``VoteAggregator``: report-noisy-max over a vote histogram in which one record moves at most one vote.

The noise comes from OpenDP's exact samplers with a cryptographic RNG (``sampling``): no seed reproduces it.
"""

from shared.mechanisms.gaussian import GaussianMechanism, gaussian_delta, gaussian_epsilon, gaussian_sigma
from shared.mechanisms.laplace import LaplaceMechanism
from shared.mechanisms.noisy_max import VoteAggregator, VoteKind

__all__ = [
    "GaussianMechanism",
    "LaplaceMechanism",
    "VoteAggregator",
    "VoteKind",
    "gaussian_delta",
    "gaussian_epsilon",
    "gaussian_sigma",
]
