"""The client service's long-lived objects: the context (datasets, ledger) and the run worker."""

from __future__ import annotations

from dataclasses import dataclass, field

from client_node.core.config import ClientSettings
from client_node.core.context import ClientContext
from client_node.remote.server_api import ServerApi
from client_node.runs.runner import RunContext
from client_node.runs.worker import start_run_worker
from shared.durable import Worker


def server_api_factory(settings: ClientSettings):  # type: ignore[no-untyped-def]
    """Build a ServerApi for a run's server URL with this client's token and TLS settings."""
    def make(url: str) -> ServerApi:
        token = settings.server_token.get_secret_value() if settings.server_token else ""
        return ServerApi(url, token, verify=settings.tls_verify, timeout=settings.server_timeout_seconds)

    return make


@dataclass
class ClientState:
    ctx: ClientContext
    runs: RunContext
    worker: Worker | None = field(default=None)

    @classmethod
    def from_settings(cls, settings: ClientSettings) -> ClientState:
        ctx = ClientContext(settings)
        return cls(ctx=ctx, runs=RunContext(client=ctx, api_factory=server_api_factory(settings)))

    def start_workers(self) -> None:
        self.worker = start_run_worker(self.runs)

    def stop_workers(self) -> None:
        if self.worker is not None:
            self.worker.stop()
