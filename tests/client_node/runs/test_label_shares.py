"""The label shares a table job carries: the training summary's rows per label, normalized."""

from __future__ import annotations

from client_node.runs.runner import label_shares


def test_shares_are_the_label_rows_normalized() -> None:
    training = {"label_rows": {"good": 48.4, "bad": 75.6}, "reference_pool": {"epsilon": 0.4}}
    assert label_shares(training) == {"good": 0.3903, "bad": 0.6097}


def test_no_release_no_shares() -> None:
    assert label_shares(None) is None and label_shares({"examples": 10}) is None
    assert label_shares({"label_rows": {"a": -1.0, "b": 0.0}}) is None
