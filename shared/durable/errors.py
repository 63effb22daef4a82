"""How work ends early: the owner cancelled it, or the worker is shutting down (the work resumes later)."""

from __future__ import annotations

from shared.errors import JobCancelledError


class Cancelled(JobCancelledError):
    """The owner asked to cancel; the work stops at its next boundary and ends ``cancelled``."""


class Stopping(Exception):  # noqa: N818  (a signal, not an error)
    """The worker is shutting down: the work goes back to the queue and resumes after its last checkpoint."""
