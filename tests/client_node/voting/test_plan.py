import math

import pytest

from client_node.voting.plan import VoteNoise, plan_votes
from shared.errors import TrainingConfigError
from shared.training.accounting import epsilon_of_history


def test_gaussian_plan_spends_at_most_the_budget_on_all_its_tokens() -> None:
    plan = plan_votes(epsilon=4.0, delta=1e-5, noise=VoteNoise.GAUSSIAN, samples_per_stratum=10, max_new_tokens=32)
    assert plan.tokens_per_stratum == 320
    assert plan.epsilon == pytest.approx(epsilon_of_history([(plan.noise_multiplier, 1.0, 320)], delta=1e-5))
    assert 3.9 < plan.epsilon <= 4.0
    assert plan.history(5) == [(plan.noise_multiplier, 1.0, 5)]
    assert plan.exact_epsilon() < plan.epsilon  # the exact Gaussian composition is tighter than RDP
    assert plan.epsilon_per_sample() == pytest.approx(plan.epsilon_of(32)) and plan.epsilon_per_sample() < plan.epsilon


def test_given_noise_the_budget_decides_the_tokens() -> None:
    plan = plan_votes(epsilon=2.0, delta=1e-5, noise=VoteNoise.GAUSSIAN, samples_per_stratum=1000, max_new_tokens=64,
                      noise_multiplier=10.0)
    assert plan.epsilon_of(plan.tokens_per_stratum) <= 2.0 < plan.epsilon_of(plan.tokens_per_stratum + 1)


def test_laplace_plan_splits_pure_epsilon_evenly() -> None:
    plan = plan_votes(epsilon=2.0, delta=1e-5, noise=VoteNoise.LAPLACE, samples_per_stratum=5, max_new_tokens=8)
    assert plan.delta == 0.0 and plan.epsilon_per_token == pytest.approx(2.0 / 40)
    assert plan.history(3) is None and plan.epsilon_of(40) == pytest.approx(2.0)
    assert plan.aggregator().noise_scale == pytest.approx(2 / plan.epsilon_per_token)


def test_impossible_plans_are_refused() -> None:
    with pytest.raises(TrainingConfigError):
        plan_votes(epsilon=0.01, delta=1e-5, noise=VoteNoise.GAUSSIAN, samples_per_stratum=1, max_new_tokens=8,
                   noise_multiplier=0.5)
    with pytest.raises(TrainingConfigError):
        plan_votes(epsilon=math.inf, delta=1e-5, noise=VoteNoise.GAUSSIAN, samples_per_stratum=1, max_new_tokens=8)
