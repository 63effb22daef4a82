"""Request body limits for JSON endpoints: a body over the limit is refused with 413 before it is parsed.

The adapter upload sets its own (larger) limit while streaming; every other request body is small JSON.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes on every path except those starting with one of ``exempt``;
    paths starting with a key of ``larger`` have that limit instead (JSON bodies that carry data)."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: tuple[str, ...] = (),
                 larger: dict[str, int] | None = None) -> None:
        self.app, self.default, self.exempt, self.larger = app, limit, exempt, dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        limit = next((n for prefix, n in self.larger.items() if scope["path"].startswith(prefix)), self.default)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            if refused:
                await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body: dict[str, Any] = {"error": {"code": "request_too_large", "message": f"request body is above {limit} bytes",
                                      "detail": {"limit": limit}}}
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
