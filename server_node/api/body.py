"""Reading a request body with a size limit, so an oversized upload is refused before it is buffered."""

from __future__ import annotations

from fastapi import Request

from shared.errors import AdapterTooLargeError


async def read_limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise AdapterTooLargeError(f"request body of {declared} bytes is above the limit of {limit}",
                                   detail={"size": int(declared), "limit": limit})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise AdapterTooLargeError(f"request body is above the limit of {limit} bytes", detail={"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)
