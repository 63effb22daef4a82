"""create_app(): the client service (binds 127.0.0.1 by default; an operator token guards every route)."""

from __future__ import annotations

from fastapi import FastAPI

from client_node import __version__
from client_node.api.main import api_router, health_router
from client_node.core.config import ClientSettings, get_settings
from client_node.state import ClientState
from shared.constants import API_PREFIX
from shared.web.app import service_app


def create_app(settings: ClientSettings | None = None) -> FastAPI:
    return service_app(title="privsynth client node", version=__version__, state_name="client",
                       make_state=lambda: ClientState.from_settings(settings or get_settings()),
                       routers=[health_router, api_router], body_limit_exempt=(f"{API_PREFIX}/datasets",))
