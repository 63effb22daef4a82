"""The baseline schema (revision 0001): the client's tables as code 2c08c05 made them, frozen here so the revision
and the stamping of databases made before migrations build exactly this, whatever the models say now."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

PRIVACY_BUDGETS = sa.Table(
    "privacy_budgets", metadata,
    sa.Column("dataset_id", sa.String(length=64), nullable=False),
    sa.Column("epsilon", sa.Float(), nullable=False),
    sa.Column("delta", sa.Float(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("dataset_id"),
)

RUNS = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.String(length=32), nullable=False),
    sa.Column("dataset_id", sa.String(length=64), nullable=False),
    sa.Column("server_url", sa.String(length=1000), nullable=False),
    sa.Column("request", sa.JSON(), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("stage", sa.String(length=16), nullable=True),
    sa.Column("progress_done", sa.Integer(), nullable=False),
    sa.Column("progress_total", sa.Integer(), nullable=False),
    sa.Column("timings", sa.JSON(), nullable=False),
    sa.Column("adapter_sha256", sa.String(length=64), nullable=True),
    sa.Column("epsilon", sa.Float(), nullable=True),
    sa.Column("training", sa.JSON(), nullable=True),
    sa.Column("server_adapter_id", sa.String(length=64), nullable=True),
    sa.Column("sample_set_sha256", sa.String(length=64), nullable=True),
    sa.Column("server_sample_set_id", sa.String(length=64), nullable=True),
    sa.Column("server_job_id", sa.String(length=64), nullable=True),
    sa.Column("server_job", sa.JSON(), nullable=True),
    sa.Column("knowledge_sha256", sa.String(length=64), nullable=True),
    sa.Column("samples_sha256", sa.String(length=64), nullable=True),
    sa.Column("report", sa.JSON(), nullable=True),
    sa.Column("error", sa.JSON(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("run_id"),
    sa.Index("ix_runs_dataset_id", "dataset_id", unique=False),
    sa.Index("ix_runs_state", "state", unique=False),
)

PRIVACY_SPENDS = sa.Table(
    "privacy_spends", metadata,
    sa.Column("run_id", sa.String(length=64), nullable=False),
    sa.Column("dataset_id", sa.String(length=64), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("mechanism", sa.String(length=32), nullable=False),
    sa.Column("accountant", sa.String(length=16), nullable=False),
    sa.Column("delta", sa.Float(), nullable=False),
    sa.Column("epsilon", sa.Float(), nullable=False),
    sa.Column("planned_epsilon", sa.Float(), nullable=False),
    sa.Column("planned_history", sa.JSON(), nullable=True),
    sa.Column("history", sa.JSON(), nullable=False),
    sa.Column("steps", sa.Integer(), nullable=False),
    sa.Column("note", sa.String(length=500), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["dataset_id"], ["privacy_budgets.dataset_id"]),
    sa.PrimaryKeyConstraint("run_id"),
    sa.Index("ix_privacy_spends_dataset_id", "dataset_id", unique=False),
)
