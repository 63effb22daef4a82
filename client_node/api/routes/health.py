"""Liveness and readiness of the client service."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from client_node.api.deps import StateDep
from shared.protocol import HealthStatus
from shared.web.health import liveness_router

router = APIRouter(tags=["health"])
router.include_router(liveness_router)


@router.get("/readyz", response_model=HealthStatus)
def read_ready(state: StateDep) -> HealthStatus:
    """Database reachable and the base model resolvable."""
    from shared.models.resolve import resolve_model

    with state.ctx.ledger.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    resolved = resolve_model(state.ctx.settings.base_model)
    return HealthStatus(status="ready", detail={"base_model": resolved.model_id,
                                                "server_url": state.ctx.settings.server_url})
