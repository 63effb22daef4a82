"""SQLAlchemy engine and declarative base for the server's database (SQLite by default)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import DeclarativeBase

from shared.database import make_sql_engine


class Base(DeclarativeBase):
    """Declarative base of every server table."""


def make_engine(url: str) -> Engine:
    """The server's engine with its tables created."""
    import server_node.models  # noqa: F401  (registers the tables)

    engine = make_sql_engine(url, Base.metadata)
    upgrade_jobs_table(engine)
    return engine


def upgrade_jobs_table(engine: Engine) -> bool:
    """Bring a database made before sample sets up to date: ``jobs`` gains ``sample_set_id`` and its
    ``adapter_id`` may be null. SQLite cannot relax a NOT NULL in place, so the table is rebuilt and its
    rows copied, in one transaction. Returns whether anything changed."""
    columns = {c["name"] for c in inspect(engine).get_columns("jobs")}
    if "sample_set_id" in columns:
        return False
    keep = ", ".join(sorted(columns))
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("ALTER TABLE jobs RENAME TO jobs_before_sample_sets"))
            for index in inspect(connection).get_indexes("jobs_before_sample_sets"):
                connection.execute(text(f'DROP INDEX IF EXISTS "{index["name"]}"'))
            Base.metadata.tables["jobs"].create(connection)
            connection.execute(text(f"INSERT INTO jobs ({keep}) SELECT {keep} FROM jobs_before_sample_sets"))
            connection.execute(text("DROP TABLE jobs_before_sample_sets"))
        else:
            connection.execute(text("ALTER TABLE jobs ADD COLUMN sample_set_id VARCHAR(32) REFERENCES sample_sets (sample_set_id)"))
            connection.execute(text("ALTER TABLE jobs ALTER COLUMN adapter_id DROP NOT NULL"))
    return True
