"""One way both nodes open their database: SQLAlchemy engine, SQLite tuned for several processes.

SQLAlchemy is imported inside the function, so importing ``shared`` still loads no database driver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Connection, Engine, MetaData, Table


def utcnow() -> datetime:
    """Timestamps stored by both nodes' tables (timezone-aware UTC)."""
    return datetime.now(UTC)


def make_sql_engine(url: str, metadata: MetaData | None = None) -> Engine:
    """An engine for ``url`` (with ``metadata``'s tables created, for tables outside the nodes' migrations).

    SQLite gets WAL mode, foreign keys, a busy timeout and cross-thread use (web workers), and its
    directory is created.
    """
    from sqlalchemy import create_engine, event

    sqlite = url.startswith("sqlite")
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False} if sqlite else {})
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

    if metadata is not None:
        metadata.create_all(engine)
    return engine


def add_missing_columns(connection: Connection, tables: Iterable[Table]) -> list[str]:
    """Add the nullable columns of ``tables`` that a database made before migrations lacks (``table.column``
    for each one added): how such databases are brought up to a baseline before it is stamped."""
    from sqlalchemy import inspect, text

    added = []
    inspector = inspect(connection)
    for table in tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} is missing and NOT NULL: a shape we cannot upgrade")
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
    return added
