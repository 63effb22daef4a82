"""SQLAlchemy engine and declarative base for the client's database (SQLite by default)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase

from shared.database import make_sql_engine


class Base(DeclarativeBase):
    """Declarative base of every client table."""


def make_engine(url: str) -> Engine:
    """The client's engine, its database upgraded to the newest revision (``client_node.migrations``)."""
    import client_node.ledger.tables  # noqa: F401  (registers the tables)
    import client_node.runs.tables  # noqa: F401
    from client_node.migrations import upgrade

    engine = make_sql_engine(url)
    upgrade(engine)
    return engine
