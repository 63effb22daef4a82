"""Reading a request body with a size limit, so an oversized upload is refused before it is buffered."""

from __future__ import annotations

from fastapi import Request

from shared.errors import RequestTooLargeError, SynthError


async def read_limited_body(request: Request, limit: int, *, error: type[SynthError] = RequestTooLargeError) -> bytes:
    """The whole body, refused with ``error`` (a 413) as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise error(f"request body of {declared} bytes is above the limit of {limit}",
                                   detail={"size": int(declared), "limit": limit})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise error(f"request body is above the limit of {limit} bytes", detail={"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)
