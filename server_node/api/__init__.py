"""The server's HTTP layer: thin routes over plain functions."""
