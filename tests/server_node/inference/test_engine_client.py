"""EngineClient over real loopback HTTP: retries with backoff, refusals at once, a clear error when down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server_node.inference.engine_client import EngineClient
from shared.errors import InferenceEngineRequestError, InferenceEngineUnavailableError
from shared.services import free_port


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, body) of the server's script; records what it saw."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with server.lock:  # type: ignore[attr-defined]
            server.seen.append((self.path, body, self.headers.get("Authorization")))  # type: ignore[attr-defined]
            status, answer = server.script.pop(0) if server.script else (200, {"ok": True})  # type: ignore[attr-defined]
            server.in_flight += 1  # type: ignore[attr-defined]
            server.most = max(server.most, server.in_flight)  # type: ignore[attr-defined]
        time.sleep(server.delay)  # type: ignore[attr-defined]
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with server.lock:  # type: ignore[attr-defined]
            server.in_flight -= 1  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Scripted)
    server.script, server.seen, server.delay = [], [], 0.0  # type: ignore[attr-defined]
    server.lock, server.in_flight, server.most = threading.Lock(), 0, 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_overload_answers_are_retried_then_succeed(scripted) -> None:
    scripted.script[:] = [(503, {"error": "busy"}), (429, {"error": "slow down"}), (200, {"choices": []})]
    client = EngineClient(url_of(scripted), api_key="k3y", retries=3, backoff=0.01)
    assert client.post("/v1/completions", {"model": "m"}) == {"choices": []}
    assert len(scripted.seen) == 3 and all(auth == "Bearer k3y" for _, _, auth in scripted.seen)


def test_a_refusal_is_raised_at_once_with_status_and_body(scripted) -> None:
    scripted.script[:] = [(404, {"error": "The model `x` does not exist."})]
    client = EngineClient(url_of(scripted), retries=3, backoff=0.01)
    with pytest.raises(InferenceEngineRequestError) as info:
        client.post("/v1/completions", {"model": "x"})
    assert info.value.code == "inference_engine_refused" and info.value.detail["status"] == 404
    assert "does not exist" in info.value.detail["body"] and len(scripted.seen) == 1


def test_an_engine_that_is_down_fails_after_the_retries_not_a_hang() -> None:
    client = EngineClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.01, connect_timeout=1.0)
    start = time.monotonic()
    with pytest.raises(InferenceEngineUnavailableError) as info:
        client.post("/v1/completions", {"model": "m"})
    assert time.monotonic() - start < 10
    assert info.value.code == "inference_engine_unavailable" and "3 tries" in info.value.message


def test_concurrency_is_bounded_across_callers(scripted) -> None:
    scripted.delay = 0.1
    client = EngineClient(url_of(scripted), max_concurrency=3)
    results = client.map(lambda i: client.post("/v1/completions", {"i": i}), range(9))
    assert len(results) == 9 and scripted.most <= 3 and len(scripted.seen) == 9
