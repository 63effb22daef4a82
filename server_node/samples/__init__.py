"""DP sample sets clients send instead of an adapter (training-free DP generation)."""
