"""The baseline schema (revision 0001): the server's tables as code 2c08c05 made them, frozen here so the revision
and the stamping of databases made before migrations build exactly this, whatever the models say now."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

CLIENT_TOKENS = sa.Table(
    "client_tokens", metadata,
    sa.Column("client_id", sa.String(length=32), nullable=False),
    sa.Column("name", sa.String(length=200), nullable=False),
    sa.Column("token_sha256", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("client_id"),
    sa.UniqueConstraint("name"),
    sa.Index("ix_client_tokens_token_sha256", "token_sha256", unique=True),
)

ADAPTERS = sa.Table(
    "adapters", metadata,
    sa.Column("adapter_id", sa.String(length=32), nullable=False),
    sa.Column("owner_id", sa.String(length=32), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("base_model", sa.String(length=512), nullable=False),
    sa.Column("lora", sa.JSON(), nullable=False),
    sa.Column("certificate", sa.JSON(), nullable=False),
    sa.Column("size_bytes", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["owner_id"], ["client_tokens.client_id"]),
    sa.PrimaryKeyConstraint("adapter_id"),
    sa.UniqueConstraint("owner_id", "sha256"),
    sa.Index("ix_adapters_owner_id", "owner_id", unique=False),
    sa.Index("ix_adapters_sha256", "sha256", unique=False),
)

SAMPLE_SETS = sa.Table(
    "sample_sets", metadata,
    sa.Column("sample_set_id", sa.String(length=32), nullable=False),
    sa.Column("owner_id", sa.String(length=32), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("samples", sa.Integer(), nullable=False),
    sa.Column("base_model", sa.String(length=512), nullable=False),
    sa.Column("lora", sa.JSON(), nullable=False),
    sa.Column("certificate", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["owner_id"], ["client_tokens.client_id"]),
    sa.PrimaryKeyConstraint("sample_set_id"),
    sa.UniqueConstraint("owner_id", "sha256"),
    sa.Index("ix_sample_sets_owner_id", "owner_id", unique=False),
    sa.Index("ix_sample_sets_sha256", "sha256", unique=False),
)

JOBS = sa.Table(
    "jobs", metadata,
    sa.Column("job_id", sa.String(length=32), nullable=False),
    sa.Column("owner_id", sa.String(length=32), nullable=False),
    sa.Column("adapter_id", sa.String(length=32), nullable=True),
    sa.Column("sample_set_id", sa.String(length=32), nullable=True),
    sa.Column("request", sa.JSON(), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("stage", sa.String(length=16), nullable=True),
    sa.Column("progress_done", sa.Integer(), nullable=False),
    sa.Column("progress_total", sa.Integer(), nullable=False),
    sa.Column("counts", sa.JSON(), nullable=False),
    sa.Column("timings", sa.JSON(), nullable=False),
    sa.Column("checkpoints", sa.JSON(), nullable=False),
    sa.Column("samples_sha256", sa.String(length=64), nullable=True),
    sa.Column("adapter_sha256", sa.String(length=64), nullable=True),
    sa.Column("error", sa.JSON(), nullable=True),
    sa.Column("compute", sa.JSON(), nullable=True),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("worker", sa.String(length=64), nullable=True),
    sa.Column("heartbeat", sa.Float(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["adapter_id"], ["adapters.adapter_id"]),
    sa.ForeignKeyConstraint(["owner_id"], ["client_tokens.client_id"]),
    sa.ForeignKeyConstraint(["sample_set_id"], ["sample_sets.sample_set_id"]),
    sa.PrimaryKeyConstraint("job_id"),
    sa.Index("ix_jobs_owner_id", "owner_id", unique=False),
    sa.Index("ix_jobs_state", "state", unique=False),
)
