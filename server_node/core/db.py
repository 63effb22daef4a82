"""SQLAlchemy engine and declarative base for the server's database (SQLite by default)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase

from shared.database import make_sql_engine


class Base(DeclarativeBase):
    """Declarative base of every server table."""


def make_engine(url: str) -> Engine:
    """The server's engine with its tables created."""
    import server_node.models  # noqa: F401  (registers the tables)

    return make_sql_engine(url, Base.metadata)
