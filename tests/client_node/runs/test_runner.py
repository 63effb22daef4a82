"""What a run's report says about its privacy: the certificate's accountant, and when it is not the one the
ledger composes with (RDP), that the ledger charges the run by RDP."""

from __future__ import annotations

from client_node.runs.runner import _privacy_head, checkpoints_of
from client_node.runs.tables import RunRow
from shared.durable.stages import STARTED
from tests.utils.adapters import make_certificate


def test_a_prv_certificate_says_the_ledger_composes_in_rdp() -> None:
    assert "ledger_note" not in _privacy_head(make_certificate())
    head = _privacy_head(make_certificate(accountant="prv"))
    assert head["accountant"] == "prv" and "RDP" in head["ledger_note"]


def test_runs_recorded_before_checkpoints_resume_from_their_columns() -> None:
    done = RunRow(run_id="r", stage="uploading", adapter_sha256="a" * 64, server_adapter_id="ad1", checkpoints={})
    assert checkpoints_of(done) == {"training": "a" * 64, "uploading": {"adapter_id": "ad1", "sample_set_id": None}}
    cut = RunRow(run_id="r", stage="training", checkpoints=None)
    assert checkpoints_of(cut) == {STARTED: ["training"]}  # it was in its DP step: never run again
