"""Alembic's environment for the client's database: run on the connection ``client_node.migrations.upgrade``
passes, against the client's table metadata."""

from __future__ import annotations

from alembic import context

from client_node.ledger.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
