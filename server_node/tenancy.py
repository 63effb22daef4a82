"""Tenancy: a row another client owns is indistinguishable from a missing one (the same 404)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from shared.errors import SynthError

Row = TypeVar("Row")


def get_owned(session: Session, table: type[Row], key: str, *, owner_id: str, missing: type[SynthError], what: str) -> Row:
    """The row ``key`` of ``table`` if ``owner_id`` owns it; else ``missing`` (a 404 error class)."""
    row: Any = session.get(table, key)
    if row is None or row.owner_id != owner_id:
        raise missing(f"no {what} {key!r}", detail={f"{what.replace(' ', '_')}_id": key})
    return row  # type: ignore[no-any-return]
