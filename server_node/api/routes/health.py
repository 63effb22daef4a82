"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from server_node.api.deps import StateDep
from shared.protocol import HealthStatus

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthStatus)
async def read_health() -> HealthStatus:
    """The process is up (answered on the event loop itself: no thread pool queue in the way)."""
    return HealthStatus(status="ok")


@router.get("/readyz", response_model=HealthStatus)
def read_ready(state: StateDep) -> HealthStatus:
    """Models resolved and the database reachable."""
    with state.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return HealthStatus(status="ready", detail={"base_models": [m.signature.model_id for m in state.hosted.base.values()],
                                                "expert": state.hosted.expert.model_id if state.hosted.expert else None})
