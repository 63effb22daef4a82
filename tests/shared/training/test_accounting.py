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
