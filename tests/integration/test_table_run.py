"""A DP table run on the real bundled models, both services as real processes and a recording proxy
between them: the client trains on a private table (reference pool, HARMONIC examples, DP-LoRA), the
server writes rows from the DP adapter, grades and distills them, the client evaluates the rows it
gets back. The wire carries the adapter and JSON only, never a private cell."""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import time

import httpx

from shared.adapters import decode_adapter
from shared.services import console_script, running_service
from shared.storage import ArtifactStore
from tests.utils.proxy import RecordingProxy


def _table(n: int = 120) -> bytes:
    rng = random.Random(0)
    lines = ["age,role,hours,pay"]
    for _ in range(n):
        role = rng.choice(["nurse", "clerk", "driver"])
        pay = "high" if (role == "nurse") ^ (rng.random() < 0.2) else "low"
        lines.append(f"{rng.randint(20, 60)},{role},{rng.choice([20, 30, 40, 50])},{pay}")
    return ("\n".join(lines) + "\n").encode()


def test_a_dp_table_run_through_both_services(tmp_path) -> None:
    server_env = {"PRIVSYNTH_SERVER_DATA_DIR": str(tmp_path / "server"), "PRIVSYNTH_SERVER_KNOWLEDGE_EPOCHS": "1"}
    token = json.loads(subprocess.run([console_script("server-node"), "tokens", "create", "clinic", "--json"],
                                      env={**os.environ, **server_env}, capture_output=True, text=True,
                                      check=True).stdout)["token"]
    operator = secrets.token_urlsafe(16)
    with running_service("server-node", server_env, log=tmp_path / "server.log") as server:
        host, port = server.url.removeprefix("http://").split(":")
        with RecordingProxy(host, int(port)) as proxy:
            client_env = {"PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client"), "PRIVSYNTH_CLIENT_SERVER_URL": proxy.url,
                          "PRIVSYNTH_CLIENT_SERVER_TOKEN": token, "PRIVSYNTH_CLIENT_API_TOKEN": operator}
            with running_service("client-node", client_env, log=tmp_path / "client.log") as client, \
                    httpx.Client(base_url=client.url, headers={"Authorization": f"Bearer {operator}"}, timeout=60) as api:
                r = api.post("/v1/datasets", content=_table(), params={
                    "name": "staff", "task": "hospital staff", "epsilon_budget": 8, "kind": "table", "label": "pay",
                    "public_categories": json.dumps({"role": ["nurse", "clerk", "driver"], "pay": ["low", "high"]}),
                    "public_bounds": json.dumps({"age": [18, 70], "hours": [0, 60]})})
                assert r.status_code == 201, r.text
                dataset_id = r.json()["dataset_id"]
                r = api.post("/v1/runs", json={
                    "dataset_id": dataset_id, "epsilon": 8.0, "epochs": 1, "max_length": 512, "table": {"neighbours": 3},
                    "n_samples": 12, "sampling": {"temperature": 0.7, "max_new_tokens": 48}, "min_grade": 0.0,
                    "poll_seconds": 1.0})
                assert r.status_code == 202, r.text
                run = r.json()
                deadline = time.monotonic() + 1500
                while run["state"] not in {"succeeded", "failed", "cancelled"}:
                    assert time.monotonic() < deadline, run
                    time.sleep(2.0)
                    run = api.get(f"/v1/runs/{run['run_id']}").json()
                samples = api.get(f"/v1/runs/{run['run_id']}/samples").text.splitlines()
                shown = api.get(f"/v1/datasets/{dataset_id}").json()
            sent = proxy.sent
    assert run["state"] == "succeeded", run
    report = run["report"]
    assert 0 < report["privacy"]["epsilon"] <= 8.0 + 1e-6 and report["privacy"]["mechanism"] == "dp-sgd"
    assert report["training"]["reference_pool"]["epsilon"] <= 0.8 + 1e-9
    # the cut-examples summary every run carries (client-node run warns from it)
    assert report["training"]["records"] == report["training"]["examples"] and report["training"]["max_length"] > 0
    assert report["samples"]["rows"] == len(samples) >= 1
    tstr = report["utility"]["tstr"]
    assert set(tstr["synthetic"]) == set(tstr["real"]) == {"logistic_regression", "random_forest", "gradient_boosting"}
    assert report["utility"]["fidelity"]["mean_tv"] is not None
    assert 0.0 <= report["privacy"]["dcr"]["copies"]["share"] <= 1.0 and "holdout" in report["privacy"]["dcr"]
    assert set(report["privacy"]["dlt"]) == {"dp_adapter", "knowledge_adapter"}
    assert [s["mechanism"] for s in shown["runs"]] == ["dp-sgd"]  # the pool's release composed into its history
    for line in samples:
        row = json.loads(json.loads(line)["text"])
        assert set(row) == {"age", "role", "hours", "pay"}
    # The wire: one adapter, JSON job requests carrying rows of the DP reference pool, and no private row
    # anywhere else (a pool row may equal a private row by chance on this small table: it is a DP output).
    assert b"POST /v1/adapters" in sent and b"POST /v1/jobs" in sent
    jobs = [json.loads(body) for body in _bodies(sent, "application/json") if b'"table"' in body]
    assert len(jobs) == 1
    shown = jobs[0]["table"]["example_rows"]
    kept = ArtifactStore(tmp_path / "client" / "artifacts").get(report["training"]["example_rows_sha256"]).decode().splitlines()
    assert shown == [json.loads(line) for line in kept] and len(shown) == min(1000, report["training"]["reference_pool"]["rows"])
    rest = sent
    for body in _bodies(sent, "application/json"):
        if b'"example_rows"' in body:
            rest = rest.replace(body, b"")
    for line in _table().decode().splitlines()[1:]:
        age, role, hours, pay = line.split(",")
        cell_json = json.dumps({"age": age, "role": role, "hours": hours, "pay": pay}, separators=(",", ":")).encode()
        assert cell_json not in rest and line.encode() not in rest
    adapters = [decode_adapter(chunk) for chunk in _bodies(sent, "application/octet-stream")]
    assert len(adapters) == 1 and adapters[0].metadata.template.table.column("role").categories == [
        "nurse", "clerk", "driver"]  # declared public; nothing about the rows
    certificate = adapters[0].metadata.certificate  # the server recomputed its epsilon from this history
    assert [m.value for m in certificate.releases] == ["gaussian-statistics"] and len(certificate.history) == 2


def _bodies(stream: bytes, content_type: str) -> list[bytes]:
    out = []
    while stream:
        head, _, rest = stream.partition(b"\r\n\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in head.decode("latin-1").split("\r\n")[1:])}
        length = int(headers.get("content-length", "0"))
        if headers.get("content-type", "").startswith(content_type):
            out.append(rest[:length])
        stream = rest[length:]
    return out
