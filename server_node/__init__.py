"""The server node: hosts base and expert models, refines DP samples, returns knowledge adapters."""

__version__ = "0.1.0"
