"""EngineClient: HTTP to one OpenAI-compatible inference engine, with bounded concurrency and retries.

Connection failures, timeouts and 429 / 502 / 503 / 504 answers are retried with exponential backoff;
after the last try the call raises ``InferenceEngineUnavailableError``, so a job fails with a reason
instead of hanging. Other 4xx / 5xx answers raise ``InferenceEngineRequestError`` at once (retrying a
request the engine refused does not help). One semaphore per client bounds the requests in flight
across every job worker thread that shares it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from shared.errors import InferenceEngineRequestError, InferenceEngineUnavailableError

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 502, 503, 504})
T = TypeVar("T")
R = TypeVar("R")


class EngineClient:
    """Thread-safe; share one per engine."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 300.0, connect_timeout: float = 5.0,
                 max_concurrency: int = 16, retries: int = 3, backoff: float = 0.5,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, transport=transport,
                                  timeout=httpx.Timeout(timeout, connect=connect_timeout),
                                  limits=httpx.Limits(max_connections=max_concurrency))
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="engine")
        self.retries, self.backoff = retries, backoff

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON; the decoded JSON answer (or the text, for endpoints that answer plain text)."""
        return self._request("POST", path, body)

    def get(self, path: str) -> Any:
        return self._request("GET", path, None)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``fn`` over ``items`` concurrently (up to the client's concurrency), results in order."""
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                with self._slots:
                    response = self._http.request(method, path, json=body)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                logger.warning("engine %s%s: %s (try %d of %d)", self.base_url, path, last, attempt + 1, self.retries + 1)
                continue
            if response.status_code in RETRY_STATUS:
                last = f"HTTP {response.status_code}: {response.text[:300]}"
                continue
            if response.status_code >= 400:
                raise InferenceEngineRequestError(
                    f"the inference engine refused {method} {path}: HTTP {response.status_code}: {response.text[:500]}",
                    detail={"engine": self.base_url, "path": path, "status": response.status_code,
                            "body": response.text[:2000]})
            try:
                return response.json()
            except ValueError:
                return response.text
        raise InferenceEngineUnavailableError(
            f"the inference engine at {self.base_url} did not answer {method} {path} after {self.retries + 1} tries ({last})",
            detail={"engine": self.base_url, "path": path, "last_error": last})
