"""Durable jobs: the database rows and their state machine, the pipeline runner, the worker threads."""
