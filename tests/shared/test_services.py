"""Services started by a process never outlive it: stopped on SIGTERM (the demo unwinds), and sent SIGTERM by
the kernel when their parent dies even by kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.utils.processes import alive, tiny_server_env

STARTER = """
import json, sys, time
from shared.services import start_service
service = start_service("server-node", json.loads(sys.argv[1]), timeout=120)
print(service.process.pid, flush=True)
time.sleep(600)
"""


def _wait_gone(pid: int, timeout: float) -> float:
    begin = time.monotonic()
    while alive(pid):
        assert time.monotonic() - begin < timeout, f"process {pid} outlived its parent by {timeout} s"
        time.sleep(0.1)
    return time.monotonic() - begin


def test_a_service_dies_with_its_parent_even_after_kill_9(tmp_path: Path) -> None:
    env = tiny_server_env(tmp_path)
    parent = subprocess.Popen([sys.executable, "-c", STARTER, json.dumps(env)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        _wait_gone(child, timeout=10)
    finally:
        parent.kill()
