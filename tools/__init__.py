"""Developer tools that see the whole repository (both nodes and shared): not installed, not imported by
the services."""
