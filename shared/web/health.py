"""/healthz for both services: answered on the event loop itself (no thread pool queue in the way)."""

from __future__ import annotations

from fastapi import APIRouter

from shared.protocol import HealthStatus

liveness_router = APIRouter(tags=["health"])


@liveness_router.get("/healthz", response_model=HealthStatus)
async def read_health() -> HealthStatus:
    """The process is up."""
    return HealthStatus(status="ok")
