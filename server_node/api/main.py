"""All routers of the server's API."""

from __future__ import annotations

from fastapi import APIRouter

from server_node.api.routes import adapters, health, jobs, models, sample_sets
from shared.constants import API_PREFIX
from shared.errors import AuthenticationError
from shared.web.openapi import error_responses

api_router = APIRouter(prefix=API_PREFIX, responses=error_responses(AuthenticationError))
api_router.include_router(models.router)
api_router.include_router(adapters.router)
api_router.include_router(sample_sets.router)
api_router.include_router(jobs.router)

health_router = health.router
