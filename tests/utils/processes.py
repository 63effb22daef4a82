"""Start a node as a real process on a free loopback port, wait until it answers, stop it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.services import ServiceProcess, console_script, free_port, start_service, tiny_server_env

__all__ = ["ServerProcess", "alive", "children", "cli", "create_tokens", "free_port", "running_server", "start_server",
           "tiny_server_env"]


def cli(name: str) -> str:
    return console_script(name)


ServerProcess = ServiceProcess


def start_server(
    env: dict[str, str], *, timeout: float = 60.0, log: Path | None = None, tls: tuple[Path, Path] | None = None,
    node: str = "server-node",
) -> ServiceProcess:
    """Start ``<node> serve`` on 127.0.0.1 and wait until /readyz answers (``shared.services``)."""
    return start_service(node, env, log=log, timeout=timeout, tls=tls)


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


def create_tokens(env: dict[str, str], *names: str) -> dict[str, str]:
    """``server-node tokens create`` for each name; their tokens."""
    import json

    out = {}
    for name in names:
        run = subprocess.run([cli("server-node"), "tokens", "create", name, "--json"], env={**os.environ, **env},
                             capture_output=True, text=True, check=True)
        out[name] = json.loads(run.stdout)["token"]
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running (a zombie has exited), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[-1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found
