"""Alembic revisions of the server database, oldest first."""
