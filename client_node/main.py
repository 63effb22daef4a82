"""create_app(): the client service (binds 127.0.0.1 by default; an operator token guards every route)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from client_node import __version__
from client_node.api.main import api_router, health_router
from client_node.core.config import ClientSettings, get_settings
from client_node.state import ClientState
from shared.constants import API_PREFIX
from shared.web.errors import install_error_handlers
from shared.web.limits import BodyLimitMiddleware

JSON_BODY_LIMIT = 64 * 1024


def create_app(settings: ClientSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ClientState.from_settings(settings or get_settings())
        app.state.client = state
        state.start_worker()
        try:
            yield
        finally:
            state.stop_worker()

    app = FastAPI(title="privsynth client node", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=JSON_BODY_LIMIT, exempt=(f"{API_PREFIX}/datasets",))
    app.include_router(health_router)
    app.include_router(api_router)
    return app
