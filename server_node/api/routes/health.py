"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from server_node.api.deps import StateDep
from shared.protocol import HealthStatus
from shared.web.health import liveness_router

router = APIRouter(tags=["health"])
router.include_router(liveness_router)


@router.get("/readyz", response_model=HealthStatus)
def read_ready(state: StateDep) -> HealthStatus:
    """Models resolved and the database reachable."""
    with state.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return HealthStatus(status="ready", detail={"base_models": [m.signature.model_id for m in state.hosted.base.values()],
                                                "expert": state.hosted.expert.model_id if state.hosted.expert else None})
