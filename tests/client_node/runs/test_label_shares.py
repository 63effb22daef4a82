"""The label shares a table job carries come from the DP reference pool's release, nothing else."""

from __future__ import annotations

from client_node.runs.runner import label_shares


def test_shares_are_the_reference_pools_estimates_normalized() -> None:
    training = {"reference_pool": {"rows_estimate": {"good": 48.4, "bad": 75.6}, "epsilon": 0.4}}
    assert label_shares(training) == {"good": 0.3903, "bad": 0.6097}


def test_no_release_no_shares() -> None:
    assert label_shares(None) is None and label_shares({"examples": 10}) is None
    assert label_shares({"reference_pool": {"rows_estimate": {"a": -1.0, "b": 0.0}}}) is None
