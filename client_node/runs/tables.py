"""The run table (in the client's database, beside the ledger)."""

from __future__ import annotations

from sqlalchemy import JSON, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from client_node.ledger.db import Base
from shared.durable import DurableWork


class RunRow(DurableWork, Base):
    """One run and what each finished step left behind (so a restarted client resumes after it)."""

    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(64), index=True)
    server_url: Mapped[str] = mapped_column(String(1000))
    request: Mapped[dict[str, object]] = mapped_column(JSON, doc="RunCreateRequest without secrets")
    adapter_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    epsilon: Mapped[float | None] = mapped_column(Float, nullable=True, doc="spent, from the certificate")
    training: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True,
                                                              doc="what the DP step reported (table examples, reference pool)")
    server_adapter_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sample_set_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True,
                                                          doc="generator votes: the DP samples and certificate (JSON)")
    server_sample_set_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    server_job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    server_job: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True, doc="last seen job state")
    knowledge_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    samples_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    report: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
