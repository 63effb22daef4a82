"""Marginal synthesis (OpenDP's AIM and MST): charged exactly in the ledger, rows within the declared domains,
and the joint structure learned from the private rows survives the noise."""

import numpy as np
import pytest

from client_node.ledger import PrivacyLedger, make_engine
from client_node.tables.marginals import (
    MarginalAlgorithm,
    MarginalSettings,
    _categories_of,
    _numbers_of,
    noise_multiplier_of,
    released_cuts,
    rho_for,
    run_marginals,
)
from shared.errors import PrivacyBudgetExceededError, TableSchemaError
from shared.tables.rows import row_problems
from shared.tables.schema import ColumnSpec, TableSchema
from shared.training.accounting import epsilon_of_history

SCHEMA = TableSchema(columns=[
    ColumnSpec(name="age", kind="integer", lower=18, upper=90, cuts=[30, 45, 60]),
    ColumnSpec(name="unit", kind="categorical", categories=["icu", "ward", "clinic"]),
    ColumnSpec(name="hours", kind="float", lower=0, upper=80, bins=4),
    ColumnSpec(name="y", kind="categorical", categories=["no", "yes"])], label="y")


def _rows(n: int = 3000) -> list[dict[str, str]]:
    """The label follows the unit (icu: mostly yes) and age band: structure only a joint model keeps."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        unit = ["icu", "ward", "clinic"][int(rng.integers(3))]
        age = int(rng.integers(20, 40)) if unit == "clinic" else int(rng.integers(50, 80))
        y = "yes" if (unit == "icu") == (rng.random() < 0.9) else "no"
        out.append({"age": str(age), "unit": unit, "hours": f"{rng.uniform(30, 50):.6g}", "y": y})
    return out


@pytest.fixture
def ledger(tmp_path) -> PrivacyLedger:
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget("t", epsilon=10.0, delta=1e-5)
    return ledger


def test_rho_is_the_largest_the_ledger_charges_within_epsilon() -> None:
    for epsilon in (0.5, 1.0, 8.0):
        rho = rho_for(epsilon, 1e-5)
        assert epsilon_of_history([(noise_multiplier_of(rho), 1.0, 1)], delta=1e-5) <= epsilon
        assert epsilon_of_history([(noise_multiplier_of(rho * 1.001), 1.0, 1)], delta=1e-5) > epsilon
    assert rho_for(1.0, 1e-5) < rho_for(8.0, 1e-5)
    with pytest.raises(ValueError):
        rho_for(float("inf"), 1e-5)


def test_mst_release_is_charged_once_and_its_rows_keep_the_joint_structure(ledger) -> None:
    rows = _rows()
    run = run_marginals(dataset_id="t", rows=rows, schema=SCHEMA, ledger=ledger, epsilon=4.0, delta=1e-5,
                        settings=MarginalSettings(algorithm=MarginalAlgorithm.MST), rng=np.random.default_rng(1))
    (spend,) = ledger.runs("t")
    assert spend["mechanism"] == "marginals" and spend["status"] == "finished"
    assert spend["history"] == [[noise_multiplier_of(run.release.rho), 1.0, 1]]
    assert spend["epsilon"] == pytest.approx(4.0, abs=1e-6) and ledger.status("t").epsilon_spent <= 4.0
    assert abs(len(run.rows) - len(rows)) < 0.05 * len(rows)  # the noisy count
    assert all(row_problems(r, SCHEMA)[1] == [] for r in run.rows)
    assert all(0 <= float(r["hours"]) <= 80 and 18 <= int(r["age"]) <= 90 for r in run.rows)
    icu = [r for r in run.rows if r["unit"] == "icu"]
    clinic = [r for r in run.rows if r["unit"] == "clinic"]
    assert np.mean([r["y"] == "yes" for r in icu]) > 0.75 > 0.25 > np.mean([r["y"] == "yes" for r in clinic])
    assert np.mean([int(r["age"]) <= 45 for r in clinic]) > 0.8 > 0.2 > np.mean([int(r["age"]) <= 45 for r in icu])

    def yes_share_by_age(table: list[dict[str, str]]) -> tuple[float, float]:  # linked through the unit alone
        young = [r["y"] == "yes" for r in table if int(r["age"]) <= 45]
        old = [r["y"] == "yes" for r in table if int(r["age"]) > 45]
        return float(np.mean(young)), float(np.mean(old))

    # i.i.d. rows keep associations that pass through the tree (randomized rounding broke them)
    assert np.allclose(yes_share_by_age(run.rows), yes_share_by_age(rows), atol=0.08)
    shares = run.release.label_rows()
    assert shares is not None and set(shares) == {"no", "yes"}
    assert abs(sum(shares.values()) - len(rows)) < 0.05 * len(rows)


def test_a_release_over_the_budget_is_refused_before_the_data_is_read(ledger) -> None:
    with pytest.raises(PrivacyBudgetExceededError):
        run_marginals(dataset_id="t", rows=_rows(10), schema=SCHEMA, ledger=ledger, epsilon=11.0, delta=1e-5,
                      settings=MarginalSettings(), rng=np.random.default_rng(0))
    assert ledger.runs("t") == [] and ledger.status("t").epsilon_spent == 0


def test_an_undeclared_column_is_refused(ledger) -> None:
    schema = TableSchema(columns=[ColumnSpec(name="age", kind="integer"), *SCHEMA.columns[1:]], label="y")
    with pytest.raises(TableSchemaError, match="declared domain"):
        run_marginals(dataset_id="t", rows=_rows(10), schema=schema, ledger=ledger, epsilon=1.0, delta=1e-5,
                      settings=MarginalSettings(), rng=np.random.default_rng(0))
    assert ledger.runs("t")[0]["status"] == "failed"  # charged in full: the plan was admitted first


def test_bins_map_back_to_numbers_within_them() -> None:
    rng = np.random.default_rng(0)
    age = SCHEMA.column("age")
    numbers = _numbers_of(np.array([0] * 50 + [1] * 50 + [3] * 50), age, released_cuts(age), rng)
    first, second, last = (list(map(int, numbers[i:i + 50])) for i in (0, 50, 100))
    assert min(first) >= 18 and max(first) <= 30 and min(second) >= 31 and max(second) <= 45
    assert min(last) >= 61 and max(last) <= 90
    hours = SCHEMA.column("hours")
    assert released_cuts(hours) == [20, 40, 60]
    assert all(60 <= float(x) <= 80 for x in _numbers_of(np.array([3] * 20), hours, [20, 40, 60], rng))
    zero_first = ColumnSpec(name="gain", kind="integer", lower=0, upper=100, cuts=[0, 50])
    assert set(_numbers_of(np.array([0] * 20), zero_first, released_cuts(zero_first), rng)) == {"0"}


def test_null_keys_are_redrawn_from_the_declared_categories() -> None:
    class Release:
        class table:  # noqa: N801 - the one attribute the redraw reads
            @staticmethod
            def project(_: list[str]) -> np.ndarray:
                return np.array([0.0, 10.0, 0.0, 5.0])  # the last is OpenDP's null key

    values = _categories_of(np.array([0, 3, 3, 3, 2]), ["icu", "ward", "clinic", None], Release(),  # type: ignore[arg-type]
                            "unit", np.random.default_rng(0))
    assert values == ["icu", "ward", "ward", "ward", "clinic"]


def test_rows_keep_conditional_independence(ledger) -> None:
    """Two columns that depend only on a third must stay independent given it. Private-PGM's default rounding
    (OpenDP's ``synthesize()``) assigns each child's values within a parent group in row order, which makes
    the children comonotone within the group (correlation about 1 here); i.i.d. rows keep it near 0."""
    rng = np.random.default_rng(0)
    schema = TableSchema(columns=[ColumnSpec(name=n, kind="categorical", categories=["0", "1", "2", "3"])
                                  for n in ("p", "a", "b")])
    rows = []
    for _ in range(3000):
        p = int(rng.integers(4))
        rows.append({"p": str(p), "a": str((p + int(rng.integers(2))) % 4), "b": str((p + int(rng.integers(2))) % 4)})
    run = run_marginals(dataset_id="t", rows=rows, schema=schema, ledger=ledger, epsilon=8.0, delta=1e-5,
                        settings=MarginalSettings(algorithm=MarginalAlgorithm.MST), rng=np.random.default_rng(1))
    for p in "0123":
        group = [(int(r["a"]), int(r["b"])) for r in run.rows if r["p"] == p]
        a, b = np.array(group).T
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.2, (p, np.corrcoef(a, b)[0, 1])
