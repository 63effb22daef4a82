"""Start a node's service (``server-node serve`` / ``client-node serve``) as a process on loopback and wait
until it is ready: what the demo, the benchmarks and the tests do to run the real services."""

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


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the process that started it dies, even by kill -9, so a demo or
    benchmark never leaves services behind."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def console_script(name: str) -> str:
    """The path of one of our console scripts in the running interpreter's environment."""
    return str(Path(sys.executable).parent / name)


@dataclass
class ServiceProcess:
    """A started service: its process and base URL."""

    process: subprocess.Popen[bytes]
    url: str
    verify: str | bool = True

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run (a crash, as far as the service can tell)."""
        self.process.kill()
        self.process.wait(timeout=10)

    def peak_rss_mib(self) -> float | None:
        """The process's peak resident memory so far (Linux ``VmHWM``; None elsewhere or once it exited)."""
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def terminate_timed(self, timeout: float = 20.0) -> float:
        """SIGTERM and wait for the exit; the seconds it took (a clean stop is what tests time)."""
        begin = time.monotonic()
        self.process.terminate()
        self.process.wait(timeout=timeout)
        return time.monotonic() - begin

    def stop(self, timeout: float = 8.0) -> None:
        """SIGTERM, then SIGKILL if it has not ended within ``timeout`` s (a service gives its work back
        to the queue within about 5)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def start_service(node: str, env: dict[str, str], *, log: Path | None = None, timeout: float = 180.0,
                  tls: tuple[Path, Path] | None = None) -> ServiceProcess:
    """``<node> serve`` on 127.0.0.1 (HTTPS with ``tls=(cert, key)``); returns once /readyz answers 200."""

    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps its own handle
    extra = ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])] if tls else []
    proc = subprocess.Popen([console_script(node), "serve", "--port", str(port), *extra], env={**os.environ, **env},
                            stdout=out, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    if log:
        out.close()  # type: ignore[union-attr]
    service = ServiceProcess(proc, f"{'https' if tls else 'http'}://127.0.0.1:{port}", str(tls[0]) if tls else True)
    return wait_ready(service, "/readyz", name=node, timeout=timeout, log=log)


def wait_ready(service: ServiceProcess, path: str, *, name: str, timeout: float, log: Path | None = None,
               interval: float = 0.2) -> ServiceProcess:
    """Return ``service`` once GET ``path`` answers 200; raise with the log's tail if the process exits,
    or after ``timeout`` seconds (killing it)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if service.process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"{name} exited with {service.process.returncode}" + (f"; log: {tail}" if tail else ""))
        try:
            if httpx.get(f"{service.url}{path}", timeout=2.0, verify=service.verify).status_code == 200:
                return service
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            service.kill()
            raise RuntimeError(f"{name} did not become ready in {timeout} s" + (f"; see {log}" if log else ""))
        time.sleep(interval)


@contextmanager
def running_service(node: str, env: dict[str, str], **kwargs: object) -> Iterator[ServiceProcess]:
    service = start_service(node, env, **kwargs)  # type: ignore[arg-type]
    try:
        yield service
    finally:
        service.stop()


def tiny_server_env(root: Path, *, device: str = "auto") -> dict[str, str]:
    """Settings of a server hosting the tiny random model as base and expert, under ``root``, computing in
    fp32 on ``device``."""
    import json

    from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer

    model_dir = root / "tiny-base"
    if not model_dir.exists():
        make_tiny_llama(seed=0).save_pretrained(model_dir)
        make_tiny_tokenizer().save_pretrained(model_dir)
    return {"PRIVSYNTH_SERVER_DATA_DIR": str(root / "data"), "PRIVSYNTH_SERVER_BASE_MODELS": json.dumps([str(model_dir)]),
            "PRIVSYNTH_SERVER_EXPERT_MODEL": str(model_dir), "PRIVSYNTH_SERVER_EMBEDDING_MODEL": "",
            "PRIVSYNTH_SERVER_DEVICE": device, "PRIVSYNTH_SERVER_PRECISION": "fp32",
            "PRIVSYNTH_SERVER_GENERATION_BATCH_SIZE": "4", "PRIVSYNTH_SERVER_WORKER_POLL_SECONDS": "0.2",
            "PRIVSYNTH_SERVER_HEARTBEAT_SECONDS": "0.5", "PRIVSYNTH_SERVER_JOB_STALE_SECONDS": "3"}
