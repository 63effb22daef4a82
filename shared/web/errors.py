"""Every error response is ``{"error": {"code", "message", "detail"}}`` with the right status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import (
    HttpError,
    InternalError,
    MethodNotAllowedError,
    RequestInvalidError,
    RequestMalformedError,
    RouteNotFoundError,
    SynthError,
)

logger = logging.getLogger(__name__)

_HTTP_ERRORS: dict[int, type[SynthError]] = {400: RequestMalformedError, 404: RouteNotFoundError,
                                             405: MethodNotAllowedError}


def _response(exc: SynthError, status: int | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(exc.to_body(), status_code=status or exc.http_status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SynthError)
    async def _synth(_request: Request, exc: SynthError) -> JSONResponse:
        return _response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": "", "msg": "invalid request"}
        return _response(RequestInvalidError(f"{first['loc']}: {first['msg']}", detail={"errors": errors}))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = _HTTP_ERRORS.get(exc.status_code, HttpError)
        return _response(error(str(exc.detail)), exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return _response(InternalError("internal server error"))
