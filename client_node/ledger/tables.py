"""Ledger tables: a budget per dataset, and every run that spent from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from client_node.ledger.db import Base
from shared.database import utcnow


class BudgetRow(Base):
    """The total (epsilon, delta) a dataset may ever spend."""

    __tablename__ = "privacy_budgets"

    dataset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SpendRow(Base):
    """One run's spending. ``history`` (opacus format) is charged *before* each step is taken.

    While a run is ``running`` it counts at its planned spend (a reservation, so concurrent runs cannot
    overspend together); once ``finished`` or ``failed`` it counts at what it recorded.
    """

    __tablename__ = "privacy_spends"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("privacy_budgets.dataset_id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # running | finished | failed
    mechanism: Mapped[str] = mapped_column(String(32))
    accountant: Mapped[str] = mapped_column(String(16))
    delta: Mapped[float] = mapped_column(Float)
    epsilon: Mapped[float] = mapped_column(Float)  # this run alone, at its own delta
    planned_epsilon: Mapped[float] = mapped_column(Float)
    planned_history: Mapped[list[list[float]] | None] = mapped_column(JSON, nullable=True)
    history: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
