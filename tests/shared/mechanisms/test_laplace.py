import math

import numpy as np
import pytest

from shared.mechanisms import LaplaceMechanism


def test_scale_is_sensitivity_over_epsilon() -> None:
    m = LaplaceMechanism(epsilon=0.5, sensitivity=2.0)
    assert m.scale == 4.0 and m.delta == 0.0 and m.composed_epsilon(3) == 1.5


def test_noise_has_the_laplace_variance() -> None:
    m = LaplaceMechanism(epsilon=1.0, sensitivity=3.0)
    noise = m.randomise(np.zeros(200_000))
    assert np.var(noise) == pytest.approx(2 * m.scale**2, rel=0.03)  # Var Lap(b) = 2 b^2
    assert np.mean(np.abs(noise)) == pytest.approx(m.scale, rel=0.02)  # E|Lap(b)| = b


def test_density_ratio_of_neighbours_is_bounded_by_e_to_the_epsilon() -> None:
    m = LaplaceMechanism(epsilon=0.7, sensitivity=1.0)
    x = np.linspace(-20, 20, 4001)

    def density(center: float) -> np.ndarray:
        return np.exp(-np.abs(x - center) / m.scale) / (2 * m.scale)

    ratio = density(0.0) / density(1.0)  # two outputs of the query one sensitivity apart
    assert ratio.max() == pytest.approx(math.exp(0.7)) and ratio.min() == pytest.approx(math.exp(-0.7))


@pytest.mark.parametrize("epsilon,sensitivity", [(0.0, 1.0), (math.inf, 1.0), (1.0, 0.0), (1.0, -1.0)])
def test_bad_parameters_are_refused(epsilon: float, sensitivity: float) -> None:
    with pytest.raises(ValueError):
        LaplaceMechanism(epsilon=epsilon, sensitivity=sensitivity)
