"""Bounded pagination for every list route: a page of at most 1,000 rows, an offset databases can hold
(SQLite and PostgreSQL take 64-bit offsets; larger ones were a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_PAGE = 1000
MAX_OFFSET = 2**31 - 1

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
