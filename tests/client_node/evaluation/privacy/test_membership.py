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


def test_calibration_removes_what_the_reference_model_explains() -> None:
    from client_node.evaluation.privacy.membership import calibrated_auc

    # members happen to be easy texts (low loss under the base model too): the raw attack is fooled,
    # the calibrated one sees no membership signal beyond the reference
    members, member_ref = [1.0, 1.1, 1.2], [1.0, 1.1, 1.2]
    nonmembers, nonmember_ref = [2.0, 2.1, 2.2], [2.0, 2.1, 2.2]
    assert loss_threshold_auc(members, nonmembers) == 1.0
    assert calibrated_auc(members, nonmembers, member_ref, nonmember_ref) == 0.5
    # a model that lowered its members' losses below the reference is caught
    assert calibrated_auc([0.5, 0.6, 0.7], nonmembers, member_ref, nonmember_ref) == 1.0
