"""Start a node as a real process on a free loopback port, wait until it answers, stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@dataclass
class ServerProcess:
    """A started ``server-node serve``: its process and base URL."""

    process: subprocess.Popen[bytes]
    url: str
    verify: str | bool = True

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run (a crash, as far as the server can tell)."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def start_server(
    env: dict[str, str], *, timeout: float = 60.0, log: Path | None = None, tls: tuple[Path, Path] | None = None,
    node: str = "server-node",
) -> ServerProcess:
    """Start ``<node> serve`` on 127.0.0.1 (HTTPS with ``tls=(cert, key)``) and wait until /readyz answers."""
    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps the handle
    extra = ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])] if tls else []
    proc = subprocess.Popen([cli(node), "serve", "--port", str(port), *extra], env={**os.environ, **env},
                            stdout=out, stderr=subprocess.STDOUT)
    if log:
        out.close()  # type: ignore[union-attr]
    server = ServerProcess(proc, f"{'https' if tls else 'http'}://127.0.0.1:{port}", str(tls[0]) if tls else True)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}" + (f"; log: {log.read_text()[-2000:]}" if log else ""))
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1.0, verify=server.verify).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("server did not become ready")
        time.sleep(0.2)


@contextmanager
def running_server(
    env: dict[str, str], *, timeout: float = 60.0, log: Path | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[str]:
    """``start_server`` as a context: yields the base URL, stops the server on exit."""
    server = start_server(env, timeout=timeout, log=log, tls=tls)
    try:
        yield server.url
    finally:
        server.stop()


def tiny_server_env(root: Path) -> dict[str, str]:
    """Settings of a server hosting the tiny random model as base and expert, under ``root``."""
    import json

    from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer

    model_dir = root / "tiny-base"
    if not model_dir.exists():
        make_tiny_llama(seed=0).save_pretrained(model_dir)
        make_tiny_tokenizer().save_pretrained(model_dir)
    return {"PRIVSYNTH_SERVER_DATA_DIR": str(root / "data"), "PRIVSYNTH_SERVER_BASE_MODELS": json.dumps([str(model_dir)]),
            "PRIVSYNTH_SERVER_EXPERT_MODEL": str(model_dir), "PRIVSYNTH_SERVER_EMBEDDING_MODEL": "",
            "PRIVSYNTH_SERVER_DTYPE": "float32", "PRIVSYNTH_SERVER_TRAINING_PRECISION": "fp32",
            "PRIVSYNTH_SERVER_GENERATION_BATCH_SIZE": "4", "PRIVSYNTH_SERVER_WORKER_POLL_SECONDS": "0.2",
            "PRIVSYNTH_SERVER_HEARTBEAT_SECONDS": "0.5", "PRIVSYNTH_SERVER_JOB_STALE_SECONDS": "3"}


def create_tokens(env: dict[str, str], *names: str) -> dict[str, str]:
    """``server-node tokens create`` for each name; their tokens."""
    import json

    out = {}
    for name in names:
        run = subprocess.run([cli("server-node"), "tokens", "create", name, "--json"], env={**os.environ, **env},
                             capture_output=True, text=True, check=True)
        out[name] = json.loads(run.stdout)["token"]
    return out
