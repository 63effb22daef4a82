"""DP sample sets through a real uvicorn process on tiny models: upload -> job without generation ->
knowledge adapter inheriting the sample set's certificate; policy, tenancy and bad input."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from shared.adapters import decode_adapter
from shared.privacy import Mechanism
from tests.utils.processes import create_tokens, running_server, tiny_server_env

CERTIFICATE = {"epsilon": 4.0, "delta": 1e-5, "noise_multiplier": 20.0, "max_grad_norm": "inf", "sample_rate": 1.0,
               "steps": 640, "accountant": "rdp", "training_records": 300, "mechanism": "gaussian-votes"}
SAMPLES = [{"instruction": f"Write a positive review {i}.", "response": f"Lovely dress number {i}."} for i in range(5)]
TASK = {"domain": "reviews", "description": "customer reviews of clothing"}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample-sets")
    env = {**tiny_server_env(root), "PRIVSYNTH_SERVER_MAX_SAMPLE_SET_BYTES": str(400_000)}
    tokens = create_tokens(env, "bank-a", "bank-b")
    with running_server(env, log=root / "server.log") as url:
        yield url, tokens


def _upload(url: str, token: str, **overrides) -> httpx.Response:
    return httpx.post(f"{url}/v1/sample-sets", json={"samples": SAMPLES, "certificate": CERTIFICATE, **overrides},
                      headers=_auth(token))


def test_a_sample_set_job_skips_generation_and_inherits_the_certificate(server) -> None:
    url, tokens = server
    a = tokens["bank-a"]
    r = _upload(url, a)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["samples"] == 5 and stored["certificate"]["mechanism"] == "gaussian-votes"
    assert _upload(url, a).json()["sample_set_id"] == stored["sample_set_id"]  # the same samples: one set
    r = httpx.post(f"{url}/v1/jobs", json={"task": TASK, "sample_set_id": stored["sample_set_id"], "min_grade": 0.0,
                                          "min_condition": 0.0, "rewrite": False}, headers=_auth(a))
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.json()["sample_set_id"] == stored["sample_set_id"] and r.json()["adapter_id"] is None
    deadline = time.monotonic() + 120
    while (job := httpx.get(f"{url}/v1/jobs/{job_id}", headers=_auth(a)).json())["state"] not in {
            "succeeded", "failed", "cancelled"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["state"] == "succeeded", job
    assert job["counts"]["generated"] == 5 and job["counts"]["attempts"] == 5 and job["counts"]["kept"] == 5
    lines = httpx.get(f"{url}/v1/jobs/{job_id}/samples", headers=_auth(a)).text.strip().splitlines()
    assert len(lines) == 5 and "Lovely dress number" in lines[0]
    adapter = decode_adapter(httpx.get(f"{url}/v1/jobs/{job_id}/adapter", headers=_auth(a)).content)
    certificate = adapter.metadata.certificate
    assert certificate.epsilon == 4.0 and certificate.mechanism is Mechanism.POST_PROCESSING
    assert certificate.inherited_from == stored["sha256"]


def test_tenants_do_not_see_each_others_sample_sets(server) -> None:
    url, tokens = server
    stored = _upload(url, tokens["bank-a"]).json()
    b = tokens["bank-b"]
    r = httpx.get(f"{url}/v1/sample-sets/{stored['sample_set_id']}", headers=_auth(b))
    assert r.status_code == 404 and r.json()["error"]["code"] == "sample_set_not_found"
    r = httpx.post(f"{url}/v1/jobs", json={"task": TASK, "sample_set_id": stored["sample_set_id"]}, headers=_auth(b))
    assert r.status_code == 404 and r.json()["error"]["code"] == "sample_set_not_found"


@pytest.mark.parametrize("overrides,status,code", [
    ({"certificate": {**CERTIFICATE, "epsilon": 50.0}}, 422, "certificate_above_policy"),
    ({"certificate": {**CERTIFICATE, "epsilon": "inf", "accountant": "none", "mechanism": "none", "delta": 0.0}},
     422, "certificate_above_policy"),
    ({"certificate": {**CERTIFICATE, "mechanism": "dp-sgd"}}, 422, "sample_set_invalid"),
    ({"base_model": "not-hosted"}, 422, "base_model_not_hosted"),
    ({"samples": []}, 422, "request_invalid"),
    ({"samples": [{"instruction": "only an instruction"}]}, 422, "request_invalid"),
    ({"samples": [SAMPLES[0], {"text": "a text"}]}, 422, "request_invalid"),
    ({"certificate": {k: v for k, v in CERTIFICATE.items() if k != "epsilon"}}, 422, "request_invalid"),
])
def test_bad_sample_sets_get_a_clear_error(server, overrides, status, code) -> None:
    url, tokens = server
    r = _upload(url, tokens["bank-b"], **overrides)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text


def test_a_job_names_exactly_one_source(server) -> None:
    url, tokens = server
    a = tokens["bank-a"]
    stored = _upload(url, a).json()
    for body in ({"task": TASK}, {"task": TASK, "sample_set_id": stored["sample_set_id"], "adapter_id": "x"}):
        r = httpx.post(f"{url}/v1/jobs", json=body, headers=_auth(a))
        assert r.status_code == 422 and r.json()["error"]["code"] == "request_invalid"
    assert math.isfinite(stored["certificate"]["epsilon"])


def test_sample_sets_have_their_own_body_limit(server) -> None:
    """Larger than the 64 KiB of a control message, up to the server's max_sample_set_bytes (413 above)."""
    url, tokens = server
    long = [{"instruction": f"Write review {i}.", "response": "Soft fabric, true to size. " * 40} for i in range(100)]
    r = _upload(url, tokens["bank-a"], samples=long)
    assert r.status_code == 201 and r.json()["samples"] == 100, r.text  # about 120 KB
    r = _upload(url, tokens["bank-a"], samples=long * 4)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
