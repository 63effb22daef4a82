"""The privacy ledger: refusal before training, write-ahead charging, crash accounting, composition."""

from __future__ import annotations

import math

import pytest

from client_node.ledger import PrivacyLedger, make_engine
from shared.errors import DatasetNotFoundError, PrivacyBudgetExceededError
from shared.training.accounting import epsilon_of_history

RUN = [(1.0, 0.1, 100)]


@pytest.fixture
def ledger(tmp_path) -> PrivacyLedger:
    return PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/client.db"))


def _open(ledger: PrivacyLedger, run_id: str, history=RUN, delta=1e-5) -> None:
    ledger.open_run("ds", run_id=run_id, planned_epsilon=epsilon_of_history(history, delta=delta), delta=delta,
                    planned_history=history, accountant="rdp", mechanism="dp-sgd")


def test_over_budget_run_is_refused_and_budget_unchanged(ledger) -> None:
    ledger.set_budget("ds", epsilon=1.0, delta=1e-5)
    before = ledger.status("ds").as_dict()
    with pytest.raises(PrivacyBudgetExceededError) as info:
        _open(ledger, "r1")
    assert info.value.code == "privacy_budget_exceeded" and info.value.detail["budget_epsilon"] == 1.0
    assert ledger.status("ds").as_dict() == before and ledger.runs("ds") == []


def test_finished_runs_compose_both_ways(ledger) -> None:
    ledger.set_budget("ds", epsilon=20.0, delta=1e-4)
    single = epsilon_of_history(RUN, delta=1e-5)
    for run_id in ("r1", "r2"):
        _open(ledger, run_id)
        ledger.charge(run_id, RUN)
        ledger.finish(run_id, history=RUN, epsilon=single)
    status = ledger.status("ds")
    assert status.basic_epsilon == pytest.approx(2 * single) and status.basic_delta == pytest.approx(2e-5)
    assert status.rdp_epsilon == pytest.approx(epsilon_of_history(RUN + RUN, delta=1e-4))
    assert status.epsilon_spent == min(status.basic_epsilon, status.rdp_epsilon) and status.runs == 2


def test_rdp_composition_admits_runs_basic_would_refuse(ledger) -> None:
    # Three runs of eps ~2 each: basic says 6 (> 5); RDP composition says less, so the third fits.
    history = [(2.0, 0.05, 300)]
    single = epsilon_of_history(history, delta=1e-6)
    triple_rdp = epsilon_of_history(history * 3, delta=3e-6)
    assert 2 * single < 5.0 < 3 * single and triple_rdp < 5.0
    ledger.set_budget("ds", epsilon=5.0, delta=3e-6)
    for run_id in ("a", "b", "c"):
        _open(ledger, run_id, history, delta=1e-6)
        ledger.finish(run_id, history=history, epsilon=single)
    assert ledger.status("ds").epsilon_spent == pytest.approx(triple_rdp)


def test_running_runs_reserve_their_plan(ledger) -> None:
    ledger.set_budget("ds", epsilon=epsilon_of_history(RUN, delta=1e-5) * 1.2, delta=1e-5)
    _open(ledger, "r1")
    with pytest.raises(PrivacyBudgetExceededError):
        _open(ledger, "r2")


def test_crashed_run_is_charged_what_it_spent(ledger) -> None:
    ledger.set_budget("ds", epsilon=50.0, delta=1e-4)
    _open(ledger, "r1")
    partial = [(1.0, 0.1, 30)]
    ledger.charge("r1", partial)
    assert ledger.fail_interrupted() == ["r1"]  # as at start-up after a kill
    status = ledger.status("ds")
    assert status.basic_epsilon == pytest.approx(epsilon_of_history(partial, delta=1e-5))
    assert ledger.runs("ds")[0]["status"] == "failed" and ledger.runs("ds")[0]["steps"] == 30


def test_non_private_runs_need_an_infinite_budget(ledger) -> None:
    ledger.set_budget("ds", epsilon=100.0, delta=1e-4)
    with pytest.raises(PrivacyBudgetExceededError):
        ledger.open_run("ds", run_id="np", planned_epsilon=math.inf, delta=0.0, planned_history=None,
                        accountant="none", mechanism="none")
    ledger.set_budget("open", epsilon=math.inf, delta=1e-4)
    ledger.open_run("open", run_id="np", planned_epsilon=math.inf, delta=0.0, planned_history=None,
                    accountant="none", mechanism="none")
    assert math.isinf(ledger.status("open").epsilon_spent)


def test_unknown_dataset_and_budget_below_spent(ledger) -> None:
    with pytest.raises(DatasetNotFoundError):
        ledger.status("nope")
    ledger.set_budget("ds", epsilon=50.0, delta=1e-4)
    _open(ledger, "r1")
    ledger.finish("r1", history=RUN, epsilon=epsilon_of_history(RUN, delta=1e-5))
    with pytest.raises(PrivacyBudgetExceededError):
        ledger.set_budget("ds", epsilon=0.5, delta=1e-4)
    assert ledger.status("ds").epsilon_budget == 50.0  # the refused budget was never stored


def test_budget_can_be_lowered_to_what_is_spent_and_no_further(ledger) -> None:
    ledger.set_budget("ds", epsilon=8.0, delta=1e-4)
    ledger.open_run("ds", run_id="laplace", planned_epsilon=3.0, delta=0.0, planned_history=None,
                    accountant="none", mechanism="laplace-votes")
    ledger.finish("laplace", history=None, epsilon=3.0)
    with pytest.raises(PrivacyBudgetExceededError):
        ledger.set_budget("ds", epsilon=1.0, delta=1e-4)
    assert ledger.status("ds").epsilon_budget == 8.0
    assert ledger.set_budget("ds", epsilon=3.0, delta=1e-4).epsilon_remaining == 0.0


def test_ledger_survives_a_new_engine(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/client.db"
    first = PrivacyLedger(make_engine(url))
    first.set_budget("ds", epsilon=9.0, delta=1e-5)
    assert PrivacyLedger(make_engine(url)).status("ds").epsilon_budget == 9.0
