"""All routers of the client's API."""

from __future__ import annotations

from fastapi import APIRouter

from client_node.api.routes import datasets, health, runs
from shared.constants import API_PREFIX
from shared.errors import AuthenticationError
from shared.web.openapi import error_responses

api_router = APIRouter(prefix=API_PREFIX, responses=error_responses(AuthenticationError))
api_router.include_router(datasets.router)
api_router.include_router(runs.router)

health_router = health.router
