"""The server database's revisions (Alembic); ``upgrade(engine)`` runs at every start-up.

0001 baseline (tokens, adapters, sample sets, jobs as of 2c08c05, ``baseline.py``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from shared.migrations import upgrade_database


def upgrade(engine: Engine) -> str:
    """Bring the server's database to the newest revision; returns it."""
    return upgrade_database(engine, str(Path(__file__).parent), revision_of_shape=revision_of_shape)


def revision_of_shape(connection: Connection) -> str:
    """A database made before migrations is brought to the baseline and stamped 0001: missing tables are
    created, and a jobs table made before sample sets (no ``sample_set_id``, ``adapter_id`` NOT NULL) is
    rebuilt with its rows copied (SQLite cannot relax a NOT NULL in place)."""
    from server_node.migrations import baseline

    baseline.metadata.create_all(connection, checkfirst=True)
    columns = {c["name"] for c in inspect(connection).get_columns("jobs")}
    if "sample_set_id" not in columns:
        keep = ", ".join(sorted(columns))
        if connection.dialect.name == "sqlite":
            connection.execute(text("ALTER TABLE jobs RENAME TO jobs_before_sample_sets"))
            for index in inspect(connection).get_indexes("jobs_before_sample_sets"):
                connection.execute(text(f'DROP INDEX IF EXISTS "{index["name"]}"'))
            baseline.metadata.tables["jobs"].create(connection)
            connection.execute(text(f"INSERT INTO jobs ({keep}) SELECT {keep} FROM jobs_before_sample_sets"))
            connection.execute(text("DROP TABLE jobs_before_sample_sets"))
        else:
            connection.execute(text("ALTER TABLE jobs ADD COLUMN sample_set_id VARCHAR(32) "
                                    "REFERENCES sample_sets (sample_set_id)"))
            connection.execute(text("ALTER TABLE jobs ALTER COLUMN adapter_id DROP NOT NULL"))
    return "0001"
