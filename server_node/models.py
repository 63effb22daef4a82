"""Server tables: client tokens (hashed), stored adapters, and jobs with their stage checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server_node.core.db import Base
from shared.database import utcnow
from shared.durable import DurableWork


class ClientToken(Base):
    """A client's bearer token; only its sha256 is stored."""

    __tablename__ = "client_tokens"

    client_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoredAdapter(Base):
    """An adapter a client uploaded; its bytes live in the artifact store under their sha256."""

    __tablename__ = "adapters"
    __table_args__ = (UniqueConstraint("owner_id", "sha256"),)

    adapter_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("client_tokens.client_id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    base_model: Mapped[str] = mapped_column(String(512))
    lora: Mapped[dict[str, object]] = mapped_column(JSON)
    certificate: Mapped[dict[str, object]] = mapped_column(JSON)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoredSampleSet(Base):
    """DP samples a client sent (training-free generation) with their certificate; the canonical JSONL
    lives in the artifact store under its sha256."""

    __tablename__ = "sample_sets"
    __table_args__ = (UniqueConstraint("owner_id", "sha256"),)

    sample_set_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("client_tokens.client_id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    samples: Mapped[int] = mapped_column(Integer)
    base_model: Mapped[str] = mapped_column(String(512))
    lora: Mapped[dict[str, object]] = mapped_column(JSON)
    certificate: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(DurableWork, Base):
    """A pipeline run on one adapter (or one sample set). Each finished stage's output is an artifact named in
    ``checkpoints``, so a job interrupted by a restart resumes after its last finished stage."""

    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("client_tokens.client_id"), index=True)
    adapter_id: Mapped[str | None] = mapped_column(ForeignKey("adapters.adapter_id"), nullable=True)
    sample_set_id: Mapped[str | None] = mapped_column(ForeignKey("sample_sets.sample_set_id"), nullable=True)
    request: Mapped[dict[str, object]] = mapped_column(JSON)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    samples_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    adapter_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    compute: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True, doc="device and precision it ran in")
