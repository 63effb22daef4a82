"""Client node configuration and the objects built from it."""
