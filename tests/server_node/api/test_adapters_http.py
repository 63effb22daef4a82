"""The server as a real uvicorn process over httpx: adapter upload, policy, tenancy, error bodies."""

from __future__ import annotations

import json
import os
import pickle
import subprocess

import httpx
import pytest

from shared.adapters import encode_adapter
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from tests.utils.adapters import make_certificate, make_tiny_adapter
from tests.utils.processes import cli, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    model_dir = root / "tiny-base"
    make_tiny_llama(seed=0).save_pretrained(model_dir)
    make_tiny_tokenizer().save_pretrained(model_dir)
    env = {"PRIVSYNTH_SERVER_DATA_DIR": str(root / "data"), "PRIVSYNTH_SERVER_BASE_MODELS": json.dumps([str(model_dir)]),
           "PRIVSYNTH_SERVER_EXPERT_MODEL": str(model_dir), "PRIVSYNTH_SERVER_EMBEDDING_MODEL": "", "PRIVSYNTH_SERVER_MAX_EPSILON": "10",
           "PRIVSYNTH_SERVER_MAX_ADAPTER_BYTES": "200000"}
    tokens = {}
    for name in ("hospital-a", "hospital-b"):
        out = subprocess.run([cli("server-node"), "tokens", "create", name, "--json"], env={**os.environ, **env},
                             capture_output=True, text=True, check=True)
        tokens[name] = json.loads(out.stdout)["token"]
    with running_server(env, log=root / "server.log") as url:
        yield url, tokens, root


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


COMPOSED = [(6.0, 1.0, 1), (0.9, 0.05, 120)]  # a count release, then make_certificate's DP-SGD steps


def _adapter(**cert: object) -> bytes:
    tensors, metadata, _ = make_tiny_adapter()
    if cert:
        metadata = metadata.model_copy(update={"certificate": make_certificate(**cert)})
    return encode_adapter(tensors, metadata)


def _artifacts(root) -> list:
    return [p for p in (root / "data" / "artifacts").rglob("*") if p.is_file()] if (root / "data" / "artifacts").exists() else []


def test_upload_and_read_back(server) -> None:
    url, tokens, root = server
    data = _adapter()
    r = httpx.post(f"{url}/v1/adapters", content=data, headers=_auth(tokens["hospital-a"]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["certificate"]["epsilon"] == 8.0 and body["lora"]["r"] == 4 and body["size_bytes"] == len(data)
    again = httpx.post(f"{url}/v1/adapters", content=data, headers=_auth(tokens["hospital-a"]))
    assert again.status_code == 201 and again.json()["adapter_id"] == body["adapter_id"]
    got = httpx.get(f"{url}/v1/adapters/{body['adapter_id']}", headers=_auth(tokens["hospital-a"]))
    assert got.status_code == 200 and got.json()["sha256"] == body["sha256"]
    # Tenancy: another client cannot see it, and cannot tell it exists.
    other = httpx.get(f"{url}/v1/adapters/{body['adapter_id']}", headers=_auth(tokens["hospital-b"]))
    assert other.status_code == 404 and other.json()["error"]["code"] == "adapter_not_found"


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda: pickle.dumps({"a": 1}), 415, "adapter_not_safetensors"),
        (lambda: _adapter()[:-10], 400, "adapter_truncated"),
        (lambda: _adapter(epsilon=50.0), 422, "certificate_above_policy"),
        # noisy condition counts and DP-SGD compose to eps 5.50 at delta 1e-5: stating 5.0 is a false claim
        (lambda: _adapter(epsilon=5.0, history=COMPOSED, releases=["condition-counts"]), 422,
         "certificate_inconsistent"),
        (lambda: b"", 400, "adapter_truncated"),
        (lambda: b"\0" * 300_000, 413, "adapter_too_large"),
    ],
    ids=["pickle", "truncated", "epsilon-above-policy", "composed-understated", "empty", "too-large"],
)
def test_bad_adapters_are_refused_and_nothing_is_stored(server, make, status, code) -> None:
    url, tokens, root = server
    before = _artifacts(root)
    r = httpx.post(f"{url}/v1/adapters", content=make(), headers=_auth(tokens["hospital-b"]))
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert _artifacts(root) == before


def test_a_composed_certificate_that_states_its_composition_is_accepted(server) -> None:
    url, tokens, _ = server
    data = _adapter(epsilon=5.5, history=COMPOSED, releases=["condition-counts"])
    r = httpx.post(f"{url}/v1/adapters", content=data, headers=_auth(tokens["hospital-a"]))
    assert r.status_code == 201, r.text
    assert r.json()["certificate"]["releases"] == ["condition-counts"]
    assert [tuple(e) for e in r.json()["certificate"]["history"]] == COMPOSED


def test_adapter_for_another_base_model_is_refused(server) -> None:
    url, tokens, _ = server
    tensors, metadata, _ = make_tiny_adapter(seed=7)  # a different random base: other weights sha256
    r = httpx.post(f"{url}/v1/adapters", content=encode_adapter(tensors, metadata), headers=_auth(tokens["hospital-a"]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "base_model_not_hosted"


def test_auth_and_unknown_routes(server) -> None:
    url, tokens, _ = server
    assert httpx.post(f"{url}/v1/adapters", content=_adapter()).json()["error"]["code"] == "unauthenticated"
    assert httpx.get(f"{url}/v1/models", headers=_auth("pst_nope")).status_code == 401
    models = httpx.get(f"{url}/v1/models", headers=_auth(tokens["hospital-a"])).json()["data"]
    assert [m["role"] for m in models] == ["base", "expert"] and models[0]["chat"] is True
    missing = httpx.get(f"{url}/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
    assert httpx.get(f"{url}/openapi.json").status_code == 200
