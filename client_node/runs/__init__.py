"""Runs: DP-train on a dataset, send the adapter to a server, fetch and verify the results, evaluate."""
