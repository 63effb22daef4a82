"""Client API routes."""
