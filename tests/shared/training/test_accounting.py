"""Accountant registry, noise calibration and history composition against opacus directly."""

from __future__ import annotations

import math

import pytest
from opacus.accountants import RDPAccountant

from shared.privacy import Accountant
from shared.training.accounting import (
    add_steps,
    compose_histories,
    create_accountant,
    epsilon_of_history,
    noise_for_target,
    register_accountant,
)


def test_registry() -> None:
    assert type(create_accountant("rdp")).__name__ == "RDPAccountant"
    assert type(create_accountant(Accountant.PRV)).__name__ == "PRVAccountant"
    with pytest.raises(ValueError, match="unknown accountant"):
        create_accountant("none")
    with pytest.raises(ValueError, match="already registered"):
        register_accountant(Accountant.RDP, "rdp")


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_noise_reaches_target(accountant: str) -> None:
    sigma = noise_for_target(epsilon=4.0, delta=1e-5, sample_rate=0.05, steps=200, accountant=accountant)
    eps = epsilon_of_history([(sigma, 0.05, 200)], delta=1e-5, accountant=accountant)
    assert 3.9 <= eps <= 4.0


def test_matches_stack_reference_numbers() -> None:
    # Reference figures from opacus' RDP accountant: sigma 1.0, q 0.125, delta 1e-5: 8 steps eps 3.79, 80 steps 8.90.
    assert epsilon_of_history([(1.0, 0.125, 8)], delta=1e-5) == pytest.approx(3.79, abs=0.01)
    assert epsilon_of_history([(1.0, 0.125, 80)], delta=1e-5) == pytest.approx(8.90, abs=0.01)


def test_history_helpers_match_opacus_step_by_step() -> None:
    acc = RDPAccountant()
    history: list[tuple[float, float, int]] = []
    for _ in range(5):
        acc.step(noise_multiplier=1.1, sample_rate=0.1)
        history = add_steps(history, noise_multiplier=1.1, sample_rate=0.1)
    acc.step(noise_multiplier=0.9, sample_rate=0.1)
    history = add_steps(history, noise_multiplier=0.9, sample_rate=0.1)
    assert history == [tuple(h) for h in acc.history]
    assert epsilon_of_history(history, delta=1e-5) == acc.get_epsilon(delta=1e-5)


def test_composition_is_tighter_than_sum_and_empty_is_zero() -> None:
    run = [(1.0, 0.1, 50)]
    single = epsilon_of_history(run, delta=1e-5)
    composed = epsilon_of_history(compose_histories([run, run, run]), delta=1e-5)
    assert single < composed < 3 * single
    assert epsilon_of_history([], delta=1e-5) == 0.0
    with pytest.raises(ValueError):
        noise_for_target(epsilon=math.inf, delta=1e-5, sample_rate=0.1, steps=10)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_noise_after_a_prior_release_meets_the_target_together(accountant: str) -> None:
    """A Gaussian count release (sample rate 1, one step) first, then DP-SGD calibrated to what is left:
    composed, the two spend the target; DP-SGD needs more noise than alone, less than with a summed split."""
    prior = [(8.0, 1.0, 1)]
    alone = noise_for_target(epsilon=4.0, delta=1e-5, sample_rate=0.05, steps=200, accountant=accountant)
    after = noise_for_target(epsilon=4.0, delta=1e-5, sample_rate=0.05, steps=200, accountant=accountant, prior=prior)
    together = epsilon_of_history([*prior, (after, 0.05, 200)], delta=1e-5, accountant=accountant)
    assert 3.99 - 0.01 <= together <= 4.0
    prior_eps = epsilon_of_history(prior, delta=1e-5, accountant=accountant)
    summed = noise_for_target(epsilon=4.0 - prior_eps, delta=1e-5, sample_rate=0.05, steps=200, accountant=accountant)
    assert alone < after < summed


def test_a_prior_that_spends_the_target_leaves_nothing_to_calibrate() -> None:
    with pytest.raises(ValueError, match="nothing is left"):
        noise_for_target(epsilon=1.0, delta=1e-5, sample_rate=0.05, steps=10, prior=[(0.5, 1.0, 1)])


def test_gdp_refuses_a_history_it_cannot_compose() -> None:
    """opacus' Gaussian accountant reads only the last entry; it must not under-report a composed history."""
    split = epsilon_of_history([(1.0, 0.1, 10), (1.0, 0.1, 5)], delta=1e-5, accountant="gdp")
    assert split == epsilon_of_history([(1.0, 0.1, 15)], delta=1e-5, accountant="gdp")
    with pytest.raises(ValueError, match="cannot compose"):
        epsilon_of_history([(4.0, 1.0, 1), (1.0, 0.1, 10)], delta=1e-5, accountant="gdp")


def test_one_gaussian_release_at_any_epsilon() -> None:
    from shared.training.accounting import gaussian_release_noise

    noise, certified = gaussian_release_noise(epsilon=0.8, delta=1e-6)  # the RDP accountant reaches it
    assert certified == pytest.approx(0.8, abs=1e-4) and certified <= 0.8 + 1e-9
    assert epsilon_of_history([(noise, 1.0, 1)], delta=1e-6) == pytest.approx(certified)
    noise, certified = gaussian_release_noise(epsilon=0.0005, delta=1e-6)  # it cannot (orders up to 4096): zCDP
    rho = 1 / (2 * noise**2)
    assert certified == pytest.approx(0.0005) and rho + 2 * math.sqrt(rho * math.log(1e6)) == pytest.approx(0.0005)
    assert epsilon_of_history([(noise, 1.0, 1)], delta=1e-6) > 0.0005  # what the ledger's RDP orders would say
    with pytest.raises(ValueError):
        gaussian_release_noise(epsilon=0.0, delta=1e-6)


def test_a_small_epsilon_release_is_certified_by_rdp_with_the_larger_orders() -> None:
    """eps 0.1 at delta 1e-6 needs an RDP order near 140: opacus' default orders (up to 63) cannot certify it."""
    from opacus.accountants import RDPAccountant

    from shared.training.accounting import RDP_ORDERS, gaussian_release_noise

    noise, certified = gaussian_release_noise(epsilon=0.1, delta=1e-6)
    assert 0.099 <= certified <= 0.1
    assert epsilon_of_history([(noise, 1.0, 1)], delta=1e-6) == pytest.approx(certified)
    default = RDPAccountant()
    default.history = [(noise, 1.0, 1)]
    assert default.get_epsilon(delta=1e-6) > 0.15  # what the ledger charged before: 1.6 x the target
    assert max(RDP_ORDERS) >= 4096 and set(RDPAccountant.DEFAULT_ALPHAS) <= set(RDP_ORDERS)
    # where opacus' orders already reach the best bound, nothing changes
    acc = RDPAccountant()
    acc.history = [(1.0, 0.125, 80)]
    assert epsilon_of_history([(1.0, 0.125, 80)], delta=1e-5) == pytest.approx(acc.get_epsilon(delta=1e-5))
