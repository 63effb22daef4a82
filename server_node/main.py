"""create_app(): the server node's FastAPI app (models resolved, database opened, workers started at start-up)."""

from __future__ import annotations

from fastapi import FastAPI

from server_node import __version__
from server_node.api.main import api_router, health_router
from server_node.core.config import ServerSettings, get_settings
from server_node.state import ServerState
from shared.constants import API_PREFIX
from shared.web.app import service_app


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return service_app(title="privsynth server node", version=__version__, state_name="server",
                       make_state=lambda: ServerState.from_settings(settings),
                       routers=[health_router, api_router], body_limit_exempt=(f"{API_PREFIX}/adapters",),
                       larger_body_limits={f"{API_PREFIX}/sample-sets": settings.max_sample_set_bytes,
                                           f"{API_PREFIX}/jobs": settings.max_job_bytes})
