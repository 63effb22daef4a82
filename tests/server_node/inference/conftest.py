"""A scripted OpenAI-style endpoint on loopback: real HTTP, answers from a list, every request recorded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

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
        # counted out before answering: once the caller has the answer it may send its next request, which
        # could otherwise arrive while this thread still counted itself (a race in the count, not the client)
        with server.lock:  # type: ignore[attr-defined]
            server.in_flight -= 1  # type: ignore[attr-defined]
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

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
