"""The OpenAPI spec says what the services really answer: every error with the shared error body and its
codes, per status. docs/api.md is generated from it (``python -m shared.docs``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.errors import RequestInvalidError, RequestMalformedError, SynthError
from shared.protocol import ErrorBody

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def _summary(error: type[SynthError]) -> str:
    """The docstring's first paragraph, on one line, without its closing full stop."""
    return " ".join((error.__doc__ or "").strip().split("\n\n")[0].split()).rstrip(".")


def describe_errors(errors: list[type[SynthError]]) -> str:
    """``code``: why, one per error, for a response's description."""
    return "; ".join(f"`{e.code}`: {_summary(e)}" for e in errors)


def error_responses(*errors: type[SynthError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route or router: the errors it answers with, grouped by status."""
    by_status: dict[int, list[type[SynthError]]] = {}
    for error in errors:
        by_status.setdefault(error.http_status, []).append(error)
    return {status: {"model": ErrorBody, "description": describe_errors(group)}
            for status, group in sorted(by_status.items())}


def _uses_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("/HTTPValidationError")


def _fix_responses(spec: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents request validation with its own body; ours answers with ``ErrorBody``
    (``request_invalid``), so say that, and add it where a route declared other 422 errors."""
    invalid = describe_errors([RequestInvalidError])
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("requestBody") and "400" not in operation.get("responses", {}):
                operation.setdefault("responses", {})["400"] = {
                    "description": describe_errors([RequestMalformedError]),
                    "content": {"application/json": {"schema": dict(_ERROR_REF)}}}
            has_input = bool(operation.get("parameters") or operation.get("requestBody"))
            response = operation.get("responses", {}).get("422")
            if response is None:
                continue
            if _uses_fastapi_validation(response):
                response.clear()
                response.update({"description": invalid,
                                 "content": {"application/json": {"schema": dict(_ERROR_REF)}}})
            elif has_input and "`request_invalid`" not in response.get("description", ""):
                response["description"] = f"{invalid}; {response['description']}"
    schemas = spec.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    return spec


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected spec at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
            app.openapi_schema = _fix_responses(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
