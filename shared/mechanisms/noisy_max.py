"""Report-noisy-max over a vote histogram: the private choice of one candidate per query.

Each of several disjoint groups of records casts one vote over a public list of candidates (a hard
vote: one-hot on its choice; or a soft vote: its probability vector over the candidates, summing to 1).
A record belongs to one group, so adding, removing or changing it changes one group's vote and nothing
else: the histogram moves by at most 2 in L1 norm and sqrt(2) in L2 norm (1 when a group appears or
disappears). The noisy histogram is then released with the Laplace or Gaussian mechanism at that
sensitivity, and its argmax is post-processing:
- Laplace, scale b: each query is (2 / b)-DP (pure), the LNMax analysis of PATE (Papernot et al. 2017);
- Gaussian, sigma: each query has RDP alpha / sigma^2 = alpha * 2 / (2 sigma^2), GNMax (Papernot et al.
  2018), i.e. noise multiplier sigma / sqrt(2) in opacus' terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from shared.mechanisms.gaussian import GaussianMechanism
from shared.mechanisms.laplace import LaplaceMechanism

VOTE_L1_SENSITIVITY = 2.0
VOTE_L2_SENSITIVITY = math.sqrt(2.0)


class VoteKind(StrEnum):
    HARD = "hard"  # each group votes for its most likely candidate
    SOFT = "soft"  # each group's probabilities over the candidates (same sensitivity, more signal)


def vote_histogram(group_scores: np.ndarray, kind: VoteKind = VoteKind.HARD) -> np.ndarray:
    """Sum of the groups' votes; ``group_scores`` is (groups, candidates) of logits or log-probabilities.

    A row of all ``-inf`` is an abstaining (empty) group and adds nothing.
    """
    scores = np.asarray(group_scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"group scores must be (groups, candidates), got shape {scores.shape}")
    present = np.isfinite(scores).any(axis=1)
    scores = scores[present]
    votes = np.zeros(scores.shape[1], dtype=np.float64)
    if not len(scores):
        return votes
    if kind is VoteKind.HARD:
        np.add.at(votes, np.argmax(scores, axis=1), 1.0)
        return votes
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs.sum(axis=0)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class VoteAggregator:
    """Noisy argmax of a vote histogram, with its per-query privacy cost."""

    mechanism: LaplaceMechanism | GaussianMechanism

    @classmethod
    def laplace(cls, epsilon_per_query: float) -> VoteAggregator:
        """Pure ``epsilon_per_query``-DP per query (Laplace scale 2 / epsilon)."""
        return cls(LaplaceMechanism(epsilon=epsilon_per_query, sensitivity=VOTE_L1_SENSITIVITY))

    @classmethod
    def gaussian(cls, noise_multiplier: float) -> VoteAggregator:
        """Gaussian noise sigma = noise_multiplier * sqrt(2) on every count."""
        return cls(GaussianMechanism.from_noise_multiplier(noise_multiplier, sensitivity=VOTE_L2_SENSITIVITY))

    @property
    def noise_scale(self) -> float:
        """Laplace b or Gaussian sigma added to each count."""
        m = self.mechanism
        return m.scale if isinstance(m, LaplaceMechanism) else m.sigma

    def history(self, queries: int) -> list[tuple[float, float, int]] | None:
        """Gaussian queries as an opacus history (composable by RDP); ``None`` for Laplace (pure epsilon)."""
        return self.mechanism.history(queries) if isinstance(self.mechanism, GaussianMechanism) else None

    def pure_epsilon(self, queries: int) -> float | None:
        """Laplace queries' pure epsilon (basic composition); ``None`` for Gaussian."""
        return self.mechanism.composed_epsilon(queries) if isinstance(self.mechanism, LaplaceMechanism) else None

    def choose(self, votes: np.ndarray) -> int:
        """The index of the largest noisy count."""
        return int(np.argmax(self.mechanism.randomise(votes)))
