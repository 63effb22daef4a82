"""The DP reference pool: its release planned before any row is read (one RDP history entry), rows drawn
from the release only."""

import numpy as np
import pytest

from client_node.tables.marginals import MarginalSettings
from client_node.tables.reference import make_pool, plan_pool
from shared.errors import TableSchemaError
from shared.privacy import Mechanism
from shared.tables.rows import row_problems
from shared.tables.schema import ColumnSpec, TableSchema
from shared.training.accounting import epsilon_of_history

SCHEMA = TableSchema(columns=[ColumnSpec(name="age", kind="integer", lower=18, upper=90),
                              ColumnSpec(name="job", kind="categorical", categories=["nurse", "clerk", "surgeon"]),
                              ColumnSpec(name="unit", kind="categorical", categories=["a", "b", "c"]),
                              ColumnSpec(name="y", kind="categorical", categories=["no", "yes"])], label="y")


def _rows(n: int = 600) -> list[dict[str, str]]:
    rng = np.random.default_rng(0)
    return [{"age": str(int(rng.integers(30, 40)) if i % 3 else int(rng.integers(60, 64))),
             "job": "nurse" if i % 2 else "clerk", "unit": "ab"[i % 2], "y": "yes" if i % 3 else "no"} for i in range(n)]


def test_the_plan_is_one_gaussian_entry_costing_its_share() -> None:
    for marginals, mechanism in ((None, Mechanism.GAUSSIAN_STATISTICS), (MarginalSettings(), Mechanism.MARGINALS)):
        plan = plan_pool(SCHEMA, epsilon=0.8, delta=1e-6, marginals=marginals)
        [(noise, rate, steps)] = plan.history
        assert plan.mechanism is mechanism and rate == 1.0 and steps == 1 and noise > 1.0
        assert plan.epsilon == pytest.approx(0.8, abs=1e-4) and plan.epsilon <= 0.8 + 1e-9
        assert epsilon_of_history(plan.history, delta=1e-6) == pytest.approx(plan.epsilon)
        # eps 1's share: certified by RDP's larger orders (zCDP's conversion would need noise 52.7)
        small = plan_pool(SCHEMA, epsilon=0.1, delta=1e-6, marginals=marginals)
        assert small.epsilon == pytest.approx(0.1, abs=1e-4) and small.epsilon <= 0.1 + 1e-9
        assert 30 < small.noise_multiplier < 45
        assert epsilon_of_history(small.history, delta=1e-6) == pytest.approx(small.epsilon)


def test_an_undeclared_column_has_no_plan() -> None:
    schema = TableSchema(columns=[ColumnSpec(name="age", kind="integer"), *SCHEMA.columns[1:]], label="y")
    with pytest.raises(TableSchemaError, match="declared") as caught:
        plan_pool(schema, epsilon=1.0, delta=1e-6)
    assert caught.value.detail["undeclared"] == ["age"]


def test_pool_rows_follow_the_schema_and_each_label_marginals() -> None:
    rows = _rows()
    pool = make_pool(plan_pool(SCHEMA, epsilon=5.0, delta=1e-5), rows, SCHEMA, factor=2.0, rng=np.random.default_rng(1))
    assert all(row_problems(r, SCHEMA)[1] == [] for r in pool.rows)
    assert 0.8 * 2 * len(rows) <= len(pool.rows) <= 1.2 * 2 * len(rows)
    yes = [r for r in pool.rows if r["y"] == "yes"]
    no = [r for r in pool.rows if r["y"] == "no"]
    assert 1.5 < len(yes) / len(no) < 2.5  # the noisy counts keep the 2:1 label balance
    assert np.mean([r["job"] == "surgeon" for r in pool.rows]) < 0.05  # declared, held by no row: noise only
    assert np.mean([r["unit"] == "c" for r in yes]) < 0.05
    assert np.mean([int(r["age"]) for r in no]) > np.mean([int(r["age"]) for r in yes])  # per-label marginals
    assert pool.epsilon == pytest.approx(5.0, abs=1e-3) and pool.release["source"] == "histograms"
    shown = pool.sample(100, seed=3)  # what a job's prompts show: distinct pool rows, the same for a seed
    assert len(shown) == 100 and shown == pool.sample(100, seed=3) and shown != pool.sample(100, seed=4)
    assert all(r in pool.rows for r in shown) and pool.sample(10**6, seed=0) == pool.rows


def test_tiny_tables_still_get_rows_of_the_declared_domains() -> None:
    pool = make_pool(plan_pool(SCHEMA, epsilon=0.5, delta=1e-5), _rows(6), SCHEMA, rng=np.random.default_rng(3))
    assert pool.rows and all(row_problems(r, SCHEMA)[1] == [] for r in pool.rows)


def test_numbers_stay_within_public_bounds_when_noise_hides_every_bin() -> None:
    schema = TableSchema(columns=[ColumnSpec(name="age", kind="integer", lower=18, upper=90),
                                  ColumnSpec(name="y", kind="categorical", categories=["no", "yes"])], label="y")
    rows = [{"age": str(30 + i % 5), "y": "yes" if i % 2 else "no"} for i in range(12)]
    pool = make_pool(plan_pool(schema, epsilon=0.2, delta=1e-6), rows, schema, rng=np.random.default_rng(4))
    assert pool.rows and all(18 <= int(r["age"]) <= 90 for r in pool.rows)
