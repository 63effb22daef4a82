"""A private training run on a stored dataset: plan, ledger charges, DP-LoRA (``shared.training``), export."""
