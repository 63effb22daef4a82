"""ServerApi: the server node's REST API as typed methods, with retries, timeouts and TLS verification.

Everything the client sends goes through here: an adapter's bytes and JSON control messages (job
requests, polls). Transient failures (connection refused or reset, timeouts, 429, 502, 503, 504) are
retried with exponential backoff; a 4xx answer is raised at once as ``ServerRequestError`` carrying
the server's error code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from shared.constants import API_PREFIX
from shared.errors import ServerRequestError, ServerUnavailableError
from shared.protocol import (
    AdapterUploadResult,
    JobCreateRequest,
    JobPublic,
    ModelsPublic,
    SampleSetCreate,
    SampleSetPublic,
    SyntheticSample,
)

logger = logging.getLogger(__name__)

RETRY_STATUSES = {429, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff_seconds, self.backoff_seconds * (2 ** (attempt - 1))))


class ServerApi:
    """One server node, one client token."""

    def __init__(self, base_url: str, token: str, *, verify: bool | str = True, timeout: float = 30.0,
                 retry: RetryPolicy | None = None, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """
        Args:
            verify: TLS verification: True (system CAs), a CA bundle path, or False (tests only).
            timeout: seconds per request (connect, read, write).
        """
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._client = httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, verify=verify,
                                    timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ServerApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- endpoints ------------------------------------------------------------------------------

    def models(self) -> ModelsPublic:
        return ModelsPublic.model_validate(self._request("GET", f"{API_PREFIX}/models").json())

    def upload_adapter(self, data: bytes) -> AdapterUploadResult:
        response = self._request("POST", f"{API_PREFIX}/adapters", content=data,
                                 headers={"Content-Type": "application/octet-stream"})
        return AdapterUploadResult.model_validate(response.json())

    def upload_sample_set(self, request: SampleSetCreate) -> SampleSetPublic:
        """DP samples (training-free generation) with their certificate; the server deduplicates by content."""
        # model_dump_json: the certificate's infinite clipping norm travels as "Infinity" (json= would refuse it)
        response = self._request("POST", f"{API_PREFIX}/sample-sets", content=request.model_dump_json(),
                                 headers={"Content-Type": "application/json"})
        return SampleSetPublic.model_validate(response.json())

    def create_job(self, request: JobCreateRequest) -> JobPublic:
        # Not idempotent: a retry after the server may have received it could create a second job.
        response = self._request("POST", f"{API_PREFIX}/jobs", json=request.model_dump(mode="json"), idempotent=False)
        return JobPublic.model_validate(response.json())

    def job(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self._request("GET", f"{API_PREFIX}/jobs/{job_id}").json())

    def cancel_job(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self._request("DELETE", f"{API_PREFIX}/jobs/{job_id}").json())

    def samples(self, job_id: str) -> list[SyntheticSample]:
        text = self._request("GET", f"{API_PREFIX}/jobs/{job_id}/samples").text
        return [SyntheticSample.model_validate_json(line) for line in text.splitlines() if line.strip()]

    def knowledge_adapter(self, job_id: str) -> bytes:
        return self._request("GET", f"{API_PREFIX}/jobs/{job_id}/adapter").content

    # --- transport --------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        """Send with retries; a non-idempotent request is retried only when it surely never arrived
        (connection refused, or 429)."""
        last: str = ""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                if not idempotent and not isinstance(exc, httpx.ConnectError):
                    break
            else:
                if response.status_code < 400:
                    return response
                retry = response.status_code in RETRY_STATUSES if idempotent else response.status_code == 429
                if not retry:
                    raise _request_error(method, path, response)
                last = f"HTTP {response.status_code}"
            if attempt < self.retry.attempts:
                delay = self.retry.delay(attempt)
                logger.info("%s %s failed (%s); retry %d/%d in %.1f s", method, path, last, attempt,
                            self.retry.attempts - 1, delay)
                self._sleep(delay)
        raise ServerUnavailableError(
            f"server {self.base_url} did not answer {method} {path} after {attempt} attempts ({last})",
            detail={"server": self.base_url, "attempts": attempt, "last_error": last})


def _request_error(method: str, path: str, response: httpx.Response) -> ServerRequestError:
    try:
        error = response.json()["error"]
        code, message, detail = str(error["code"]), str(error["message"]), error.get("detail")
    except (ValueError, KeyError, TypeError):
        code, message, detail = "http_error", response.text[:200], None
    return ServerRequestError(f"server refused {method} {path}: {message} ({code})",
                              detail={"status": response.status_code, "code": code, "server_detail": detail})
