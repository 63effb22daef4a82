"""HTTP helpers both services use: the error body handlers, request body limits. Imports FastAPI, so
nothing light imports it (``import shared`` does not)."""
