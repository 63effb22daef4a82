import random

import pytest

from client_node.evaluation.privacy.membership import loss_threshold_auc


def test_perfect_separation_is_one_and_reversed_is_zero() -> None:
    assert loss_threshold_auc([0.1, 0.2], [1.0, 2.0]) == 1.0
    assert loss_threshold_auc([1.0, 2.0], [0.1, 0.2]) == 0.0


def test_ties_count_half() -> None:
    assert loss_threshold_auc([1.0], [1.0]) == 0.5
    assert loss_threshold_auc([1.0, 1.0], [1.0, 2.0]) == pytest.approx(0.75)


def test_matches_the_pairwise_definition() -> None:
    rng = random.Random(0)
    members = [rng.gauss(0.0, 1.0) for _ in range(40)]
    nonmembers = [rng.gauss(0.5, 1.0) for _ in range(50)] + members[:3]
    pairs = [(m < n) + 0.5 * (m == n) for m in members for n in nonmembers]
    assert loss_threshold_auc(members, nonmembers) == pytest.approx(sum(pairs) / len(pairs))


def test_empty_groups_are_refused() -> None:
    with pytest.raises(ValueError):
        loss_threshold_auc([], [1.0])
