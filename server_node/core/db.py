"""SQLAlchemy engine and declarative base for the server's database (SQLite by default)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase

from shared.database import make_sql_engine


class Base(DeclarativeBase):
    """Declarative base of every server table."""


def make_engine(url: str) -> Engine:
    """The server's engine, its database upgraded to the newest revision (``server_node.migrations``)."""
    import server_node.models  # noqa: F401  (registers the tables)
    from server_node.migrations import upgrade

    engine = make_sql_engine(url)
    upgrade(engine)
    return engine
