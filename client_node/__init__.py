"""The client node: runs beside the private data, trains DP-LoRA adapters, keeps the privacy ledger."""

__version__ = "0.1.0"
