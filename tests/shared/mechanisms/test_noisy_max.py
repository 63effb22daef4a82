"""The vote aggregator's guarantee, checked on exact output distributions of neighbouring histograms."""

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

from shared.mechanisms import VoteAggregator, VoteKind
from shared.mechanisms.noisy_max import vote_histogram


def test_hard_votes_count_each_group_once_and_empty_groups_abstain() -> None:
    scores = np.array([[0.1, 2.0, 0.3], [5.0, 1.0, 0.0], [0.0, 3.0, 1.0], [-np.inf, -np.inf, -np.inf]])
    assert vote_histogram(scores, VoteKind.HARD).tolist() == [1.0, 2.0, 0.0]


def test_soft_votes_are_each_groups_probabilities() -> None:
    scores = np.log(np.array([[0.2, 0.8], [0.5, 0.5]]))
    assert vote_histogram(scores, VoteKind.SOFT) == pytest.approx([0.7, 1.3])


@pytest.mark.parametrize("kind", list(VoteKind))
def test_one_changed_group_moves_the_histogram_within_the_sensitivity(kind: VoteKind) -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        scores = rng.normal(size=(7, 5)) * 3
        changed = scores.copy()
        changed[rng.integers(7)] = rng.normal(size=5) * 3
        removed = scores[1:]
        for other in (changed, removed):
            diff = vote_histogram(scores, kind) - vote_histogram(other, kind)
            assert np.abs(diff).sum() <= 2 + 1e-9 and np.sqrt((diff**2).sum()) <= math.sqrt(2) + 1e-9


def _argmax_distribution(votes: np.ndarray, aggregator: VoteAggregator) -> np.ndarray:
    """P(argmax of votes + noise = i), by one-dimensional integration (exact to quadrature accuracy)."""
    scale = aggregator.noise_scale
    dist = stats.laplace(scale=scale) if aggregator.history(1) is None else stats.norm(scale=scale)
    out = []
    for i, v in enumerate(votes):
        others = [w for j, w in enumerate(votes) if j != i]

        def density(x: float, v: float = v, others: list = others) -> float:
            return float(dist.pdf(x - v) * np.prod([dist.cdf(x - w) for w in others]))

        lo, hi = min(votes) - 60 * scale, max(votes) + 60 * scale
        out.append(integrate.quad(density, lo, hi, limit=500, points=sorted(set(votes)))[0])
    return np.array(out)


NEIGHBOURS = [  # (votes of D, votes of a neighbour): one group's vote moves, appears or disappears
    (np.array([5.0, 3.0, 0.0]), np.array([4.0, 4.0, 0.0])),
    (np.array([5.0, 3.0, 0.0]), np.array([4.0, 3.0, 1.0])),
    (np.array([2.0, 2.0, 2.0]), np.array([3.0, 1.0, 2.0])),
    (np.array([5.0, 3.0, 0.0]), np.array([5.0, 3.0, 1.0])),
    (np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])),
]


@pytest.mark.parametrize("epsilon", [0.5, 1.0])
def test_laplace_noisy_max_is_pure_epsilon_dp_on_neighbours(epsilon: float) -> None:
    aggregator = VoteAggregator.laplace(epsilon)
    for a, b in NEIGHBOURS:
        for first, second in ((a, b), (b, a)):
            p, q = _argmax_distribution(first, aggregator), _argmax_distribution(second, aggregator)
            assert p.sum() == pytest.approx(1.0, abs=1e-6)
            assert np.all(p <= math.exp(epsilon) * q + 1e-9)


@pytest.mark.parametrize("noise_multiplier", [1.0, 2.0])
def test_gaussian_noisy_max_meets_the_exact_gaussian_bound_on_neighbours(noise_multiplier: float) -> None:
    """The argmax is post-processing of the noisy histogram, so every event has at most the (epsilon, delta)
    of one Gaussian release at L2 sensitivity sqrt(2): P(S) <= e^eps Q(S) + delta for every set S."""
    aggregator = VoteAggregator.gaussian(noise_multiplier)
    mechanism = aggregator.mechanism
    for a, b in NEIGHBOURS:
        for first, second in ((a, b), (b, a)):
            p, q = _argmax_distribution(first, aggregator), _argmax_distribution(second, aggregator)
            for epsilon in (0.25, 0.5, 1.0, 2.0):
                delta = mechanism.delta_at(epsilon)
                for size in range(1, len(p) + 1):
                    for subset in itertools.combinations(range(len(p)), size):
                        s = list(subset)
                        assert p[s].sum() <= math.exp(epsilon) * q[s].sum() + delta + 1e-9


def test_a_clear_majority_wins_when_the_noise_is_small() -> None:
    aggregator = VoteAggregator.gaussian(0.5)
    wins = sum(aggregator.choose(np.array([1.0, 30.0, 2.0])) == 1 for _ in range(200))
    assert wins == 200


def test_aggregators_report_their_accounting() -> None:
    gaussian, laplace = VoteAggregator.gaussian(3.0), VoteAggregator.laplace(0.25)
    assert gaussian.history(10) == [(3.0, 1.0, 10)] and gaussian.pure_epsilon(10) is None
    assert gaussian.noise_scale == pytest.approx(3.0 * math.sqrt(2))
    assert laplace.history(10) is None and laplace.pure_epsilon(10) == pytest.approx(2.5)
    assert laplace.noise_scale == pytest.approx(8.0)  # 2 / 0.25: L1 sensitivity 2
