"""The DP reference pool: one charged release per run (parallel over labels), rows drawn from it only."""

import numpy as np
import pytest

from client_node.ledger import PrivacyLedger, make_engine
from client_node.tables.reference import UNKNOWN, build_reference_pool
from shared.errors import PrivacyBudgetExceededError
from shared.tables.rows import row_problems
from shared.tables.schema import ColumnSpec, TableSchema

SCHEMA = TableSchema(columns=[ColumnSpec(name="age", kind="integer"), ColumnSpec(name="job", kind="categorical"),
                              ColumnSpec(name="unit", kind="categorical", categories=["a", "b", "c"]),
                              ColumnSpec(name="y", kind="categorical", categories=["no", "yes"])], label="y")


def _rows(n: int = 600) -> list[dict[str, str]]:
    rng = np.random.default_rng(0)
    return [{"age": str(int(rng.integers(30, 40)) if i % 3 else int(rng.integers(60, 64))),
             "job": "nurse" if i % 2 else "clerk", "unit": "ab"[i % 2], "y": "yes" if i % 3 else "no"} for i in range(n)]


@pytest.fixture
def ledger(tmp_path) -> PrivacyLedger:
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget("t", epsilon=10.0, delta=1e-4)
    return ledger


def test_pool_rows_follow_the_schema_and_each_label_marginals(ledger) -> None:
    rows = _rows()
    pool = build_reference_pool(dataset_id="t", rows=rows, schema=SCHEMA, ledger=ledger, epsilon=5.0, delta=1e-5,
                                factor=2.0, rng=np.random.default_rng(1))
    assert all(row_problems(r, SCHEMA)[1] == [] for r in pool.rows)
    assert 0.8 * 2 * len(rows) <= len(pool.rows) <= 1.2 * 2 * len(rows)
    yes = [r for r in pool.rows if r["y"] == "yes"]
    no = [r for r in pool.rows if r["y"] == "no"]
    assert 1.5 < len(yes) / len(no) < 2.5  # the noisy counts keep the 2:1 label balance
    assert {r["job"] for r in pool.rows} == {"nurse", "clerk"}
    assert np.mean([r["unit"] == "c" for r in yes]) < 0.05  # no row has it: only noise gives it weight
    assert np.mean([int(r["age"]) for r in no]) > np.mean([int(r["age"]) for r in yes])  # per-label marginals
    [spend] = ledger.runs("t")
    assert spend["mechanism"] == "gaussian-statistics" and spend["status"] == "finished"
    assert spend["epsilon"] == pytest.approx(pool.epsilon) and pool.epsilon <= 5.0 + 1e-9
    shown = pool.sample(100, seed=3)  # what a job's prompts show: distinct pool rows, the same for a seed
    assert len(shown) == 100 and shown == pool.sample(100, seed=3) and shown != pool.sample(100, seed=4)
    assert all(r in pool.rows for r in shown) and pool.sample(10**6, seed=0) == pool.rows


def test_a_value_few_rows_hold_is_not_released(ledger) -> None:
    rows = _rows() + [{"age": "35", "job": "astronaut", "unit": "a", "y": "yes"}]
    pool = build_reference_pool(dataset_id="t", rows=rows, schema=SCHEMA, ledger=ledger, epsilon=2.0, delta=1e-5,
                                rng=np.random.default_rng(2))
    assert "astronaut" not in {r["job"] for r in pool.rows}


def test_tiny_tables_still_get_rows_without_private_values(ledger) -> None:
    rows = _rows(6)
    pool = build_reference_pool(dataset_id="t", rows=rows, schema=SCHEMA, ledger=ledger, epsilon=0.5, delta=1e-5,
                                rng=np.random.default_rng(3))
    assert pool.rows and {r["job"] for r in pool.rows} <= {"nurse", "clerk", UNKNOWN}


def test_over_budget_releases_nothing(ledger) -> None:
    with pytest.raises(PrivacyBudgetExceededError):
        build_reference_pool(dataset_id="t", rows=_rows(), schema=SCHEMA, ledger=ledger, epsilon=50.0, delta=1e-5,
                             rng=np.random.default_rng(0))
    assert ledger.runs("t") == []


def test_numbers_stay_within_public_bounds_when_noise_hides_every_bin(ledger) -> None:
    schema = TableSchema(columns=[ColumnSpec(name="age", kind="integer", lower=18, upper=90),
                                  ColumnSpec(name="y", kind="categorical", categories=["no", "yes"])], label="y")
    rows = [{"age": str(30 + i % 5), "y": "yes" if i % 2 else "no"} for i in range(12)]
    pool = build_reference_pool(dataset_id="t", rows=rows, schema=schema, ledger=ledger, epsilon=0.2, delta=1e-6,
                                rng=np.random.default_rng(4))
    assert pool.rows and all(18 <= int(r["age"]) <= 90 for r in pool.rows)
