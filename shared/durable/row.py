"""The columns every piece of durable work has, as a SQLAlchemy mixin: the client's runs and the server's
jobs are both ``DurableWork`` rows, so one queue, one stage runner and one worker serve both."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.database import utcnow


class DurableWork:
    """State, stage and progress for the API; checkpoints for resuming; worker, heartbeat and attempts for
    recovery; a cancel request the work honours at its next boundary.

    Each node's migrations create these columns (``client_node/migrations``, ``server_node/migrations``)."""

    state: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict, doc="seconds per finished stage")
    checkpoints: Mapped[dict[str, object]] = mapped_column(JSON, default=dict, server_default=text("'{}'"),
                                                           doc="stage -> its recorded output")
    error: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"), doc="times a worker started it")
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    heartbeat: Mapped[float | None] = mapped_column(Float, nullable=True, doc="unix time of the worker's last sign")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
