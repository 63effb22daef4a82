"""Alembic's environment for the server's database: run on the connection ``server_node.migrations.upgrade``
passes, against the server's table metadata."""

from __future__ import annotations

from alembic import context

from server_node.core.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
