import math

import numpy as np
import pytest
from opacus.accountants.analysis.rdp import compute_rdp
from scipy import integrate, stats

from shared.mechanisms import GaussianMechanism, gaussian_delta, gaussian_epsilon, gaussian_sigma
from shared.mechanisms.gaussian import classical_sigma
from shared.training.accounting import epsilon_of_history


def _delta_by_integration(sigma: float, epsilon: float, sensitivity: float) -> float:
    """delta(epsilon) = integral of max(0, p(x) - e^eps q(x)) for p = N(0, s^2), q = N(D, s^2): the
    hockey-stick divergence, which is the definition the closed form must match."""
    p = stats.norm(0.0, sigma).pdf
    q = stats.norm(sensitivity, sigma).pdf
    value, _ = integrate.quad(lambda x: max(0.0, p(x) - math.exp(epsilon) * q(x)), -40 * sigma, 40 * sigma, limit=400,
                              points=[sensitivity / 2 - epsilon * sigma**2 / sensitivity])
    return float(value)


@pytest.mark.parametrize("sigma,epsilon,sensitivity", [(1.0, 0.5, 1.0), (2.0, 1.0, 1.0), (3.0, 0.2, 2.0),
                                                       (0.8, 2.0, 1.0), (5.0, 0.1, math.sqrt(2))])
def test_analytic_delta_matches_the_hockey_stick_integral(sigma: float, epsilon: float, sensitivity: float) -> None:
    exact = gaussian_delta(sigma=sigma, epsilon=epsilon, sensitivity=sensitivity)
    assert exact == pytest.approx(_delta_by_integration(sigma, epsilon, sensitivity), rel=1e-6, abs=1e-12)


def test_calibration_inverts_the_exact_delta() -> None:
    for epsilon, delta in [(0.5, 1e-5), (1.0, 1e-6), (4.0, 1e-5), (8.0, 1e-3)]:
        sigma = gaussian_sigma(epsilon=epsilon, delta=delta)
        assert gaussian_delta(sigma=sigma, epsilon=epsilon) <= delta * (1 + 1e-9)
        assert gaussian_delta(sigma=sigma * 0.999, epsilon=epsilon) > delta  # the least sigma
        assert gaussian_epsilon(sigma=sigma, delta=delta) == pytest.approx(epsilon, rel=1e-6)


def test_analytic_calibration_needs_less_noise_than_the_classical_one() -> None:
    for epsilon in (0.1, 0.5, 0.9):
        classical = classical_sigma(epsilon=epsilon, delta=1e-5)
        assert classical == pytest.approx(math.sqrt(2 * math.log(1.25 / 1e-5)) / epsilon)
        assert gaussian_sigma(epsilon=epsilon, delta=1e-5) < classical
        assert gaussian_delta(sigma=classical, epsilon=epsilon) <= 1e-5  # the classical one is also valid
    with pytest.raises(ValueError):
        classical_sigma(epsilon=2.0, delta=1e-5)


def test_scaling_sensitivity_scales_sigma() -> None:
    assert gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=3.0) == pytest.approx(
        3.0 * gaussian_sigma(epsilon=1.0, delta=1e-5), rel=1e-9)


def test_rdp_is_alpha_over_two_sigma_squared_and_matches_opacus_at_sample_rate_one() -> None:
    m = GaussianMechanism(sigma=3.0, sensitivity=1.5)
    for alpha in (1.5, 2.0, 8.0, 32.0):
        assert m.rdp(alpha) == pytest.approx(alpha * 1.5**2 / (2 * 3.0**2))
        assert m.rdp(alpha) == pytest.approx(compute_rdp(q=1.0, noise_multiplier=m.noise_multiplier, steps=1,
                                                         orders=[alpha])[0])


def test_rdp_conversion_is_an_upper_bound_on_the_exact_epsilon() -> None:
    m = GaussianMechanism(sigma=2.0)
    exact = m.epsilon_at(1e-5)
    via_rdp = epsilon_of_history(m.history(1), delta=1e-5)
    assert exact < via_rdp < exact * 1.5


def test_composition_of_t_releases_is_one_release_with_sigma_over_sqrt_t() -> None:
    """T Gaussian releases compose exactly (privacy loss distributions add): the T-fold RDP curve equals
    the RDP of one release with noise sigma / sqrt(T)."""
    m, t = GaussianMechanism(sigma=10.0), 25
    one = GaussianMechanism(sigma=10.0 / math.sqrt(t))
    for alpha in (2.0, 10.0):
        assert t * m.rdp(alpha) == pytest.approx(one.rdp(alpha))


def test_noise_has_standard_deviation_sigma() -> None:
    noise = GaussianMechanism(sigma=2.5).randomise(np.zeros(200_000))
    assert np.std(noise) == pytest.approx(2.5, rel=0.01) and abs(np.mean(noise)) < 0.02  # 4 standard errors
    again = GaussianMechanism(sigma=2.5).randomise(np.zeros(1000))
    assert not np.array_equal(again, GaussianMechanism(sigma=2.5).randomise(np.zeros(1000)))  # never seeded
