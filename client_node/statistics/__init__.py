"""DP statistics of private tables (noisy counts and ranges), released once under the ledger."""
