"""Server tables: client tokens (hashed) and stored adapters. Jobs come with the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server_node.core.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class ClientToken(Base):
    """A client's bearer token; only its sha256 is stored."""

    __tablename__ = "client_tokens"

    client_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
