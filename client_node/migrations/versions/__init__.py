"""Alembic revisions of the client database, oldest first."""
