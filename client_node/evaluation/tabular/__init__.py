"""Utility and privacy of synthetic tables, measured on the client against rows that never left it."""
