"""SQLAlchemy engine and declarative base for the client's database (SQLite by default)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import DeclarativeBase

from shared.database import add_missing_columns, make_sql_engine


class Base(DeclarativeBase):
    """Declarative base of every client table."""


def make_engine(url: str) -> Engine:
    """The client's engine with its tables created."""
    import client_node.ledger.tables  # noqa: F401  (registers the tables)
    import client_node.runs.tables  # noqa: F401

    engine = make_sql_engine(url, Base.metadata)
    add_missing_columns(engine, Base.metadata)  # runs made before sample sets gain their columns
    return engine
