"""Start a node as a real process on a free loopback port, wait until it answers, stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@contextmanager
def running_server(
    env: dict[str, str], *, timeout: float = 60.0, log: Path | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[str]:
    """``server-node serve`` on 127.0.0.1 (HTTPS with ``tls=(cert, key)``); yields its base URL."""
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    extra = ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])] if tls else []
    proc = subprocess.Popen([cli("server-node"), "serve", "--port", str(port), *extra], env={**os.environ, **env},
                            stdout=out, stderr=subprocess.STDOUT)
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    verify: str | bool = str(tls[0]) if tls else True
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}" + (f"; log: {log.read_text()[-2000:]}" if log else ""))
            try:
                if httpx.get(f"{url}/readyz", timeout=1.0, verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()  # type: ignore[union-attr]
