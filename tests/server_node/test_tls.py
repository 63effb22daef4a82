"""The server serves HTTPS with a given certificate; clients verify it, and plain HTTP does not work."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from tests.utils.processes import running_server


def _self_signed(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def test_https_with_self_signed_certificate(tmp_path) -> None:
    cert, key = _self_signed(tmp_path)
    model_dir = tmp_path / "tiny"
    make_tiny_llama().save_pretrained(model_dir)
    make_tiny_tokenizer().save_pretrained(model_dir)
    env = {"PRIVSYNTH_SERVER_DATA_DIR": str(tmp_path / "data"), "PRIVSYNTH_SERVER_BASE_MODELS": json.dumps([str(model_dir)]),
           "PRIVSYNTH_SERVER_EXPERT_MODEL": str(model_dir), "PRIVSYNTH_SERVER_EMBEDDING_MODEL": ""}
    with running_server(env, tls=(cert, key), log=tmp_path / "server.log") as url:
        assert url.startswith("https://")
        assert httpx.get(f"{url}/healthz", verify=str(cert)).json()["status"] == "ok"
        with pytest.raises(httpx.ConnectError):  # verification on by default: an unknown CA is refused
            httpx.get(f"{url}/healthz")
        with pytest.raises(httpx.HTTPError):
            httpx.get(url.replace("https://", "http://") + "/healthz", timeout=5)
