"""create_app(): build the server's FastAPI app, attach routers and error handlers; nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server_node import __version__
from server_node.api.main import api_router, health_router
from server_node.core.config import ServerSettings, get_settings
from server_node.state import ServerState
from shared.constants import API_PREFIX
from shared.web.errors import install_error_handlers
from shared.web.limits import BodyLimitMiddleware

JSON_BODY_LIMIT = 64 * 1024  # job requests are a few hundred bytes


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The server app; models are resolved and the database opened at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServerState.from_settings(settings or get_settings())
        app.state.server = state
        state.start_workers()
        try:
            yield
        finally:
            state.stop_workers()

    app = FastAPI(title="privsynth server node", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=JSON_BODY_LIMIT, exempt=(f"{API_PREFIX}/adapters",))
    app.include_router(health_router)
    app.include_router(api_router)
    return app
