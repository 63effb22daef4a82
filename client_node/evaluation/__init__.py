"""Local evaluation of adapters and synthetic data on the client's own held-out records."""
