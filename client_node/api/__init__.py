"""The client service's HTTP layer: thin routes over client_node's plain functions."""
