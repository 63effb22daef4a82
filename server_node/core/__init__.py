"""Server node configuration, database and security."""
