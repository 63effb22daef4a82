"""The privacy budget ledger (SQLite through SQLAlchemy by default)."""

from client_node.ledger.db import make_engine
from client_node.ledger.ledger import BudgetStatus, PrivacyLedger, RunNotFoundError, compose

__all__ = ["BudgetStatus", "PrivacyLedger", "RunNotFoundError", "compose", "make_engine"]
