"""The run worker at start-up: ledger runs a stopped client left open are closed, charged what they recorded."""

from __future__ import annotations

import pytest

from client_node.core.config import ClientSettings
from client_node.state import ClientState
from shared.training.accounting import epsilon_of_history


def test_start_closes_ledger_runs_left_open_and_frees_their_reservation(tmp_path) -> None:
    state = ClientState.from_settings(ClientSettings(data_dir=tmp_path))
    ledger = state.ctx.ledger
    ledger.set_budget("ds", epsilon=20.0, delta=1e-5)
    plan = [(1.0, 0.1, 100)]
    ledger.open_run("ds", run_id="cut-off", planned_epsilon=epsilon_of_history(plan, delta=1e-5), delta=1e-5,
                    planned_history=plan, accountant="rdp", mechanism="dp-sgd")
    ledger.charge("cut-off", [(1.0, 0.1, 10)])  # charged before step 11, then the process died
    reserved = ledger.status("ds").epsilon_spent
    state.start_workers()
    try:
        status = ledger.status("ds")
        assert ledger.runs("ds")[0]["status"] == "failed"
        assert status.epsilon_spent == pytest.approx(epsilon_of_history([(1.0, 0.1, 10)], delta=1e-5))
        assert status.epsilon_spent < reserved
    finally:
        state.stop_workers()
