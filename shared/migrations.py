"""Schema migrations with Alembic, one revision chain per node (``client_node/migrations``,
``server_node/migrations``). A new database is built by the revisions; one made before migrations (no
``alembic_version`` table) is first stamped with the revision its shape shows, then upgraded.

Alembic and SQLAlchemy are imported inside the function: importing ``shared`` loads neither."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def upgrade_database(engine: Engine, script_location: str, *, revision_of_shape: Callable[[Connection], str]) -> str:
    """Upgrade ``engine``'s database to the newest revision in one transaction; returns that revision.

    ``revision_of_shape`` is asked only for a database made before migrations: it may bring an older
    shape up to a known revision and returns the revision the database now has."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import inspect

    config = Config()
    config.set_main_option("script_location", script_location)
    with _one_migrator(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        inspector = inspect(connection)
        if not inspector.has_table("alembic_version") and inspector.get_table_names():
            command.stamp(config, revision_of_shape(connection))
        command.upgrade(config, "head")
        return str(MigrationContext.configure(connection).get_current_revision())


@contextlib.contextmanager
def _one_migrator(engine: Engine) -> Iterator[None]:
    """Two processes opening a new SQLite file at once (a CLI command beside a starting service) would
    both build it, and one fails half-way (measured: 2 of 12 concurrent first opens); an exclusive lock on a
    file beside the database makes the second wait and then find it built. Other databases rely on their
    own transactional DDL."""
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    import fcntl

    with open(Path(database).with_name(Path(database).name + ".migrate.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
