"""Jobs through a real uvicorn process over httpx, on tiny models: upload -> job -> poll -> download,
tenancy, cancellation, bad input, and kill -9 in the middle of a job."""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest

from shared.adapters import decode_adapter, encode_adapter
from shared.adapters.metadata import AdapterKind
from shared.privacy import Mechanism
from shared.protocol import SyntheticSample
from tests.utils.adapters import make_tiny_adapter
from tests.utils.processes import create_tokens, running_server, start_server, tiny_server_env

SMALL_JOB = {"task": {"domain": "clinic questions", "description": "patient questions and a doctor's answers"},
             "n_samples": 6, "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 12}, "min_grade": 0.0}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _upload(url: str, token: str) -> dict:
    tensors, metadata, _ = make_tiny_adapter(text=True)
    r = httpx.post(f"{url}/v1/adapters", content=encode_adapter(tensors, metadata), headers=_auth(token))
    assert r.status_code == 201, r.text
    return r.json()


def _wait(url: str, token: str, job_id: str, *, until, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = httpx.get(f"{url}/v1/jobs/{job_id}", headers=_auth(token)).json()
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job did not get there in {timeout} s: {job}"
        time.sleep(0.2)


def _terminal(job: dict) -> bool:
    return job["state"] in {"succeeded", "failed", "cancelled"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("jobs")
    env = tiny_server_env(root)
    tokens = create_tokens(env, "hospital-a", "hospital-b")
    with running_server(env, log=root / "server.log") as url:
        yield url, tokens


def test_job_runs_to_samples_and_a_knowledge_adapter(server) -> None:
    url, tokens = server
    a = tokens["hospital-a"]
    adapter = _upload(url, a)
    r = httpx.post(f"{url}/v1/jobs", json={**SMALL_JOB, "adapter_id": adapter["adapter_id"]}, headers=_auth(a))
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.json()["state"] in {"queued", "running"}
    job = _wait(url, a, job_id, until=_terminal)
    assert job["state"] == "succeeded", job
    counts = job["counts"]
    assert counts["generated"] == 6 and counts["kept"] == 6 and counts["dropped"] == 0
    assert counts["attempts"] >= 6 and set(job["timings"]) == {"generating", "grading", "rewriting", "training"}

    lines = httpx.get(f"{url}/v1/jobs/{job_id}/samples", headers=_auth(a)).text.strip().splitlines()
    samples = [SyntheticSample.model_validate_json(line) for line in lines]
    assert len(samples) == 6 and all(s.text and s.grade is not None and s.reason for s in samples)
    assert all(set(s.criteria) == {"relevance", "fluency"} for s in samples)  # text samples: no instruction to answer

    got = httpx.get(f"{url}/v1/jobs/{job_id}/adapter", headers=_auth(a))
    assert got.status_code == 200 and got.headers["content-type"] == "application/octet-stream"
    decoded = decode_adapter(got.content)
    assert decoded.sha256 == got.headers["x-adapter-sha256"]
    assert decoded.metadata.kind is AdapterKind.KNOWLEDGE
    cert = decoded.metadata.certificate
    assert cert.mechanism is Mechanism.POST_PROCESSING and cert.inherited_from == adapter["sha256"]
    assert cert.epsilon == adapter["certificate"]["epsilon"]

    listed = httpx.get(f"{url}/v1/jobs", headers=_auth(a)).json()
    assert job_id in [j["job_id"] for j in listed["data"]] and listed["count"] >= 1


def test_switches_skip_stages_and_the_missing_adapter_is_a_409(server) -> None:
    url, tokens = server
    a = tokens["hospital-a"]
    adapter = _upload(url, a)
    body = {**SMALL_JOB, "adapter_id": adapter["adapter_id"], "grade": False, "rewrite": False,
            "train_knowledge_adapter": False, "n_samples": 3}
    job_id = httpx.post(f"{url}/v1/jobs", json=body, headers=_auth(a)).json()["job_id"]
    job = _wait(url, a, job_id, until=_terminal)
    assert job["state"] == "succeeded" and set(job["timings"]) == {"generating"}
    samples = httpx.get(f"{url}/v1/jobs/{job_id}/samples", headers=_auth(a)).text.strip().splitlines()
    assert len(samples) == 3 and json.loads(samples[0])["grade"] is None
    r = httpx.get(f"{url}/v1/jobs/{job_id}/adapter", headers=_auth(a))
    assert r.status_code == 409 and r.json()["error"]["code"] == "job_result_unavailable"
    assert r.json()["error"]["detail"]["requested"] is False


def test_another_client_sees_nothing(server) -> None:
    url, tokens = server
    a, b = tokens["hospital-a"], tokens["hospital-b"]
    adapter = _upload(url, a)
    job_id = httpx.post(f"{url}/v1/jobs", json={**SMALL_JOB, "adapter_id": adapter["adapter_id"]}, headers=_auth(a)).json()["job_id"]
    for method, path in [("GET", ""), ("GET", "/samples"), ("GET", "/adapter"), ("DELETE", "")]:
        r = httpx.request(method, f"{url}/v1/jobs/{job_id}{path}", headers=_auth(b))
        assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found", (method, path, r.text)
    assert job_id not in [j["job_id"] for j in httpx.get(f"{url}/v1/jobs", headers=_auth(b)).json()["data"]]
    r = httpx.post(f"{url}/v1/jobs", json={**SMALL_JOB, "adapter_id": adapter["adapter_id"]}, headers=_auth(b))
    assert r.status_code == 404 and r.json()["error"]["code"] == "adapter_not_found"
    _wait(url, a, job_id, until=_terminal)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**SMALL_JOB, "adapter_id": "x", "n_samples": 0}, 422, "request_invalid"),
        ({**SMALL_JOB, "adapter_id": "x", "sampling": {"temperature": -1}}, 422, "request_invalid"),
        ({**SMALL_JOB, "adapter_id": "x", "surprise": 1}, 422, "request_invalid"),
        ({**SMALL_JOB, "adapter_id": "x", "task": {**SMALL_JOB["task"], "labels": ["a", "A"]}}, 422, "request_invalid"),
        ({**SMALL_JOB, "adapter_id": "no-such-adapter"}, 404, "adapter_not_found"),
        ({**SMALL_JOB, "adapter_id": "x", "task": {"domain": "d", "description": "y" * 9_000_000}}, 413, "request_too_large"),
    ],
    ids=["zero-samples", "bad-temperature", "unknown-field", "duplicate-labels", "unknown-adapter", "too-large"],
)
def test_bad_job_requests_are_4xx_with_an_error_body(server, body, status, code) -> None:
    url, tokens = server
    r = httpx.post(f"{url}/v1/jobs", json=body, headers=_auth(tokens["hospital-a"]))
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_a_request_its_adapter_cannot_serve_is_a_422_and_queues_nothing(server) -> None:
    url, tokens = server
    a = tokens["hospital-a"]
    adapter = _upload(url, a)  # a text adapter without conditions
    before = httpx.get(f"{url}/v1/jobs", headers=_auth(a)).json()["count"]
    shares = [{"conditions": {"label": "positive"}, "share": 1.0}]
    for extra, code in [({"condition_shares": shares}, "condition_shares_invalid"),
                        ({"table": {"example_rows": [{"age": "40"}]}}, "example_rows_invalid"),
                        # 4,000 wide rows (about 1 MB): past the 64 KiB JSON limit, within the job's
                        ({"table": {"example_rows": [{"age": "40", "notes": "x" * 250}] * 4000}}, "example_rows_invalid")]:
        r = httpx.post(f"{url}/v1/jobs", json={**SMALL_JOB, "adapter_id": adapter["adapter_id"], **extra}, headers=_auth(a))
        assert r.status_code == 422 and r.json()["error"]["code"] == code, r.text
    assert httpx.get(f"{url}/v1/jobs", headers=_auth(a)).json()["count"] == before


def test_malformed_json_and_unknown_job(server) -> None:
    url, tokens = server
    headers = {**_auth(tokens["hospital-a"]), "content-type": "application/json"}
    r = httpx.post(f"{url}/v1/jobs", content=b"{not json", headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "request_invalid"
    r = httpx.get(f"{url}/v1/jobs/nope", headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"
    r = httpx.get(f"{url}/v1/jobs?limit=0", headers=headers)
    assert r.status_code == 422
    r = httpx.get(f"{url}/v1/jobs?offset=321279189026992881664", headers=headers)  # found by schemathesis: was a 500
    assert r.status_code == 422 and r.json()["error"]["code"] == "request_invalid"


def test_cancel_a_job(server) -> None:
    url, tokens = server
    a = tokens["hospital-a"]
    adapter = _upload(url, a)
    body = {**SMALL_JOB, "adapter_id": adapter["adapter_id"], "n_samples": 5000,
            "sampling": {"temperature": 1.0, "max_new_tokens": 64}}
    job_id = httpx.post(f"{url}/v1/jobs", json=body, headers=_auth(a)).json()["job_id"]
    r = httpx.delete(f"{url}/v1/jobs/{job_id}", headers=_auth(a))
    assert r.status_code == 200
    job = _wait(url, a, job_id, until=_terminal, timeout=60)
    assert job["state"] == "cancelled"
    r = httpx.delete(f"{url}/v1/jobs/{job_id}", headers=_auth(a))
    assert r.status_code == 409 and r.json()["error"]["code"] == "job_already_finished"
    r = httpx.get(f"{url}/v1/jobs/{job_id}/samples", headers=_auth(a))
    assert r.status_code == 409 and r.json()["error"]["code"] == "job_result_unavailable"


def test_kill_9_mid_job_then_restart_resumes_after_the_last_finished_stage(tmp_path) -> None:
    env, token, log = _one_tenant(tmp_path)
    server = start_server(env, log=log)
    try:
        adapter = _upload(server.url, token)
        # Enough grading work (long samples, one at a time) that the kill lands after generation.
        body = {**SMALL_JOB, "adapter_id": adapter["adapter_id"], "n_samples": 40,
                "sampling": {"temperature": 1.0, "max_new_tokens": 48}}
        job_id = httpx.post(f"{server.url}/v1/jobs", json=body, headers=_auth(token)).json()["job_id"]
        before = _wait(server.url, token, job_id, until=lambda j: "generating" in j["timings"] or _terminal(j))
        assert before["state"] == "running", before
        server.kill()
    finally:
        server.stop()
    server = start_server(env, log=log)
    try:
        after = _wait(server.url, token, job_id, until=_terminal, timeout=180)
        assert after["state"] == "succeeded", (after, log.read_text()[-3000:])
        # The generation stage was not run again: its recorded time and counts are the ones from before.
        assert after["timings"]["generating"] == before["timings"]["generating"]
        assert after["counts"]["generated"] == before["counts"]["generated"] == 40
        assert f"recovered interrupted {job_id}" in log.read_text()
    finally:
        server.stop()


def _one_tenant(tmp_path):  # type: ignore[no-untyped-def]
    env = tiny_server_env(tmp_path)
    return env, create_tokens(env, "hospital-a")["hospital-a"], tmp_path / "server.log"


def test_sigterm_mid_generation_stops_within_10_s_and_the_job_resumes(tmp_path) -> None:
    env, token, log = _one_tenant(tmp_path)
    server = start_server(env, log=log)
    try:
        adapter = _upload(server.url, token)
        body = {**SMALL_JOB, "adapter_id": adapter["adapter_id"], "n_samples": 400, "grade": False, "rewrite": False,
                "train_knowledge_adapter": False, "sampling": {"temperature": 1.0, "max_new_tokens": 48}}
        job_id = httpx.post(f"{server.url}/v1/jobs", json=body, headers=_auth(token)).json()["job_id"]
        _wait(server.url, token, job_id, until=lambda j: j["progress"]["done"] > 0 or _terminal(j))
        assert server.terminate_timed() < 10
    finally:
        server.stop()
    server = start_server(env, log=log)
    try:
        job = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=_auth(token)).json()
        assert job["state"] in {"queued", "running", "succeeded"}  # given back to the queue, not failed
        after = _wait(server.url, token, job_id, until=_terminal, timeout=300)
        assert after["state"] == "succeeded", after
    finally:
        server.stop()


def test_kill_9_mid_knowledge_adapter_training_then_restart_finishes_the_job(tmp_path) -> None:
    env, token, log = _one_tenant(tmp_path)
    server = start_server({**env, "PRIVSYNTH_FAULT": "kill-during:training:1"}, log=log)
    try:
        adapter = _upload(server.url, token)
        body = {**SMALL_JOB, "adapter_id": adapter["adapter_id"], "n_samples": 8}
        job_id = httpx.post(f"{server.url}/v1/jobs", json=body, headers=_auth(token)).json()["job_id"]
        assert server.process.wait(timeout=180) == -9  # killed itself in the knowledge adapter's first step
    finally:
        server.stop()
    server = start_server(env, log=log)
    try:
        job = _wait(server.url, token, job_id, until=_terminal, timeout=180)
        adapter_bytes = httpx.get(f"{server.url}/v1/jobs/{job_id}/adapter", headers=_auth(token)).content
    finally:
        server.stop()
    assert job["state"] == "succeeded", job
    assert set(job["timings"]) == {"generating", "grading", "rewriting", "training"}
    assert decode_adapter(adapter_bytes).metadata.kind is AdapterKind.KNOWLEDGE
    for path in (tmp_path / "data" / "artifacts").glob("*/*"):  # every named artifact is whole
        if not path.name.startswith("."):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
