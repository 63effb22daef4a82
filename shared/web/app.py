"""The FastAPI app both services are: their long-lived state started and stopped with the app, the
shared error bodies and body limits, then their routers."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI

from shared.web.errors import install_error_handlers
from shared.web.limits import BodyLimitMiddleware
from shared.web.openapi import install_openapi

JSON_BODY_LIMIT = 64 * 1024
SWITCH_INTERVAL = 0.001  # control messages are a few hundred bytes; files go to exempt paths


class ServiceState(Protocol):
    """A node's state: built at start-up, its background workers started and stopped with the app."""

    def start_workers(self) -> None: ...

    def stop_workers(self) -> None: ...


def service_app(*, title: str, version: str, make_state: Callable[[], ServiceState], state_name: str,
                routers: Sequence[APIRouter], body_limit_exempt: tuple[str, ...],
                larger_body_limits: dict[str, int] | None = None) -> FastAPI:
    """The app; ``make_state`` runs at start-up and its result is ``app.state.<state_name>``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Workers in this process hold the GIL for Python-heavy stretches (decoding loops, model loads);
        # the event loop waits up to the switch interval at every socket call. 1 ms instead of 5 keeps
        # /healthz and the API answering promptly while a job runs (bench/load.py measures it).
        sys.setswitchinterval(SWITCH_INTERVAL)
        state = make_state()
        setattr(app.state, state_name, state)
        # Everything loaded so far lives as long as the service: out of the collector's sight, a full
        # collection between stages (release_memory) scans only what jobs made, in milliseconds, not the
        # ~250 ms with the GIL held that stalled every request (bench/load.py)
        gc.collect()
        gc.freeze()
        state.start_workers()
        try:
            yield
        finally:
            state.stop_workers()

    app = FastAPI(title=title, version=version, lifespan=lifespan)
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimitMiddleware, limit=JSON_BODY_LIMIT, exempt=body_limit_exempt, larger=larger_body_limits)
    for router in routers:
        app.include_router(router)
    return app
