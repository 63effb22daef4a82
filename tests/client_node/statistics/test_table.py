import math
from statistics import NormalDist

import numpy as np
import pytest

from client_node.ledger import PrivacyLedger, make_engine
from client_node.statistics.table import (
    ColumnKind,
    ColumnSpec,
    numeric_edges,
    release_table_statistics,
    run_table_statistics,
)
from shared.errors import PrivacyBudgetExceededError
from shared.mechanisms import gaussian_sigma
from shared.training.accounting import epsilon_of_history

SCHEMA = [
    ColumnSpec(name="job", kind=ColumnKind.CATEGORICAL, categories=["nurse", "clerk", "chef"]),
    ColumnSpec(name="city", kind=ColumnKind.CATEGORICAL),
    ColumnSpec(name="age", kind=ColumnKind.INTEGER, lower=0, upper=100, bins=20),
    ColumnSpec(name="income", kind=ColumnKind.FLOAT),
]


def _rows(n: int = 2000, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"job": ["nurse", "clerk", "chef"][i % 3], "city": ["Oslo", "Lima"][i % 2],
             "age": int(rng.integers(20, 60)), "income": float(rng.uniform(1000, 5000))} for i in range(n)]


def test_one_release_for_all_columns_at_sqrt_c_sensitivity() -> None:
    stats = release_table_statistics(_rows(), SCHEMA, epsilon=1.0, delta=1e-5)
    assert stats.threshold_delta == pytest.approx(0.5e-5)  # "city" has no public categories
    assert stats.sigma == pytest.approx(gaussian_sigma(epsilon=1.0, delta=0.5e-5, sensitivity=2.0))
    assert stats.epsilon == pytest.approx(1.0, rel=1e-6) and stats.history() is None


def test_counts_and_ranges_are_close_at_a_large_epsilon_and_validate_rows() -> None:
    rows = _rows()
    stats = release_table_statistics(rows, SCHEMA, epsilon=20.0, delta=1e-5)
    job = stats.columns["job"].counts
    assert set(job) == {"nurse", "clerk", "chef"} and all(abs(n - 667) < 10 for n in job.values())
    assert set(stats.columns["city"].counts) == {"Oslo", "Lima"}
    age = stats.columns["age"]
    assert age.lower == 20 and age.upper == 60  # bins of 5 years: the data's 20..59 fills bins [20, 60)
    income = stats.columns["income"]
    assert income.lower == 512 and income.upper == 8192  # the powers-of-two bins holding 1000..5000
    assert stats.problems(rows[0]) == []
    bad = {"job": "pilot", "city": "Rome", "age": 99.5, "income": "lots"}
    assert len(stats.problems(bad)) == 4 and stats.problems({}) == [f"{c.name}: missing" for c in SCHEMA]


def test_a_value_only_one_row_has_clears_the_threshold_with_probability_at_most_its_delta_share() -> None:
    rows = [*_rows(200), {"job": "chef", "city": "Reykjavik", "age": 30, "income": 2000.0}]
    stats = release_table_statistics(rows, SCHEMA, epsilon=1.0, delta=1e-3)
    threshold = 1.0 + stats.sigma * NormalDist().inv_cdf(1 - stats.threshold_delta / len(SCHEMA))
    assert 1 - NormalDist(1.0, stats.sigma).cdf(threshold) == pytest.approx(stats.threshold_delta / len(SCHEMA))
    released = sum("Reykjavik" in release_table_statistics(rows, SCHEMA, epsilon=1.0, delta=1e-3).columns["city"].counts
                   for _ in range(300))
    assert released <= 2  # probability 1.25e-4 per release: 3 or more of 300 has probability about 1e-5


def test_the_grid_is_public() -> None:
    edges = numeric_edges(ColumnSpec(name="x", kind=ColumnKind.FLOAT))
    assert edges[0] == -(2.0**40) and edges[-1] == 2.0**40 and 0.0 in edges
    assert numeric_edges(ColumnSpec(name="x", kind=ColumnKind.FLOAT, lower=0, upper=1, bins=4)) == [0, 0.25, 0.5, 0.75, 1]


def test_released_under_the_ledger(tmp_path) -> None:
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget("t", epsilon=3.0, delta=1e-4)
    public_only = [SCHEMA[0], SCHEMA[2]]
    stats = run_table_statistics(dataset_id="t", rows=_rows(100), schema=public_only, ledger=ledger, epsilon=1.0,
                                 delta=1e-5)
    [spend] = ledger.runs("t")
    assert spend["mechanism"] == "gaussian-statistics" and spend["history"] == [[stats.noise_multiplier, 1.0, 1]]
    assert ledger.status("t").rdp_epsilon == pytest.approx(epsilon_of_history(stats.history() or [], delta=1e-4))
    run_table_statistics(dataset_id="t", rows=_rows(100), schema=SCHEMA, ledger=ledger, epsilon=1.0, delta=1e-5)
    status = ledger.status("t")  # the thresholded release composes by its (epsilon, delta)
    assert status.rdp_epsilon == pytest.approx(1.0 + epsilon_of_history(stats.history() or [], delta=1e-4 - 1e-5),
                                               rel=1e-6)
    with pytest.raises(PrivacyBudgetExceededError):
        run_table_statistics(dataset_id="t", rows=_rows(100), schema=SCHEMA, ledger=ledger, epsilon=2.0, delta=1e-5)
    assert len(ledger.runs("t")) == 2 and math.isfinite(status.epsilon_spent)
