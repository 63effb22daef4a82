"""kill -9 of the client at stage boundaries and in the middle of DP training (``PRIVSYNTH_FAULT``), then
a restart: every run resumes or fails cleanly with a clear error, no artifact is half-written, and the
ledger's spent epsilon is the RDP accountant over the history it recorded."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from shared.training.accounting import epsilon_of_history
from tests.client_node.api.test_runs_http import RUN, _op, _records, _wait, nodes  # noqa: F401 (fixture)
from tests.utils.processes import start_server


def _artifacts_intact(root) -> None:
    for path in root.glob("*/*"):
        assert not path.name.startswith(".incoming-") or time.time() - path.stat().st_mtime < 600
        if not path.name.startswith("."):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path


@pytest.mark.parametrize("fault, ends", [
    ("kill-after:training", "succeeded"),
    ("kill-after:uploading", "succeeded"),
    ("kill-after:server", "succeeded"),
    ("kill-after:downloading", "succeeded"),
    ("kill-after:evaluating", "succeeded"),
    ("kill-during:training:2", "failed"),
])
def test_kill_9_at_a_fault_point_then_restart(nodes, tmp_path, fault, ends) -> None:  # noqa: F811
    _, _, env = nodes
    env = {**env, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client")}
    log = tmp_path / "client.log"
    client = start_server({**env, "PRIVSYNTH_FAULT": fault}, log=log, node="client-node")
    try:
        dataset = httpx.post(f"{client.url}/v1/datasets", content=_records(fault), headers=_op(), params={
            "name": "notes", "task": "short clinic follow-up notes", "epsilon_budget": 10}).json()["dataset_id"]
        body = {**RUN, "dataset_id": dataset, **({"epochs": 4} if "during" in fault else {})}
        run_id = httpx.post(f"{client.url}/v1/runs", json=body, headers=_op()).json()["run_id"]
        assert client.process.wait(timeout=180) == -9  # it killed itself at the fault point
    finally:
        client.stop()
    client = start_server(env, log=log, node="client-node")
    try:
        run = _wait(client.url, run_id, timeout=180)
        info = httpx.get(f"{client.url}/v1/datasets/{dataset}", headers=_op()).json()
    finally:
        client.stop()
    assert run["state"] == ends, run
    if ends == "failed":
        assert run["error"]["code"] == "stage_interrupted" and "DP step" in run["error"]["message"]
    else:
        assert run["report"] and run["timings"].keys() >= {"training", "evaluating"}
    [spend] = info["runs"]
    assert spend["status"] in {"finished", "failed"} and spend["status"] == ("failed" if ends == "failed" else "finished")
    history = [tuple(h) for h in spend["history"]]
    assert info["budget"]["epsilon_spent"] == pytest.approx(
        epsilon_of_history(history, delta=info["budget"]["delta_budget"]), rel=1e-6)
    _artifacts_intact(tmp_path / "client" / "artifacts")
