"""What a run's report says about its privacy: the certificate's accountant, and when it is not the one the
ledger composes with (RDP), that the ledger charges the run by RDP."""

from __future__ import annotations

from client_node.runs.runner import _privacy_head
from tests.utils.adapters import make_certificate


def test_a_prv_certificate_says_the_ledger_composes_in_rdp() -> None:
    assert "ledger_note" not in _privacy_head(make_certificate())
    head = _privacy_head(make_certificate(accountant="prv"))
    assert head["accountant"] == "prv" and "RDP" in head["ledger_note"]
