"""One way both nodes open their database: SQLAlchemy engine, SQLite tuned for several processes.

SQLAlchemy is imported inside the function, so importing ``shared`` still loads no database driver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine, MetaData


def utcnow() -> datetime:
    """Timestamps stored by both nodes' tables (timezone-aware UTC)."""
    return datetime.now(UTC)


def make_sql_engine(url: str, metadata: MetaData) -> Engine:
    """An engine for ``url`` with ``metadata``'s tables created.

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

    metadata.create_all(engine)
    return engine


def add_missing_columns(engine: Engine, metadata: MetaData) -> list[str]:
    """Add the nullable columns a newer version declares to tables an older version made (``table.column``
    for each one added). Anything else (a new NOT NULL column, a changed type) needs a real migration."""
    from sqlalchemy import inspect, text

    added = []
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise RuntimeError(f"{table.name}.{column.name} is new and NOT NULL: this database needs a migration")
                kind = column.type.compile(dialect=engine.dialect)
                connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
                added.append(f"{table.name}.{column.name}")
    return added
