"""The client database's revisions (Alembic); ``upgrade(engine)`` runs at every start-up.

0001 baseline (the ledger and runs as of 2c08c05, ``baseline.py``), 0002 runs on the durable engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect

from shared.database import add_missing_columns
from shared.migrations import upgrade_database


def upgrade(engine: Engine) -> str:
    """Bring the client's database to the newest revision; returns it."""
    return upgrade_database(engine, str(Path(__file__).parent), revision_of_shape=revision_of_shape)


def revision_of_shape(connection: Connection) -> str:
    """A database made before migrations: one whose runs have the durable columns is at 0002; older ones
    are brought to the baseline (missing tables created, the nullable columns runs gained added) at 0001."""
    from client_node.migrations import baseline

    if "attempts" in {c["name"] for c in _columns(connection, "runs")}:
        return "0002"
    baseline.metadata.create_all(connection, checkfirst=True)
    add_missing_columns(connection, baseline.metadata.sorted_tables)
    return "0001"


def _columns(connection: Connection, table: str) -> list[dict]:  # type: ignore[type-arg]
    inspector = inspect(connection)
    return inspector.get_columns(table) if inspector.has_table(table) else []
