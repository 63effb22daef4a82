"""Runs on the durable engine: checkpoints, a cancel request, attempts, worker and heartbeat. Runs recorded
before get checkpoints from the columns their finished steps filled, so they resume where they were (a run
cut off in its DP step is marked as having started it: it fails rather than spend twice).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("checkpoints", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("worker", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("heartbeat", sa.Float(), nullable=True))
    runs = sa.table("runs", sa.column("run_id", sa.String), sa.column("stage", sa.String),
                    sa.column("adapter_sha256", sa.String), sa.column("sample_set_sha256", sa.String),
                    sa.column("server_adapter_id", sa.String), sa.column("server_sample_set_id", sa.String),
                    sa.column("checkpoints", sa.JSON))
    bind = op.get_bind()
    for row in bind.execute(sa.select(runs)).mappings().all():
        checkpoints: dict[str, object] = {}
        for stage, sha in (("training", row["adapter_sha256"]), ("generating", row["sample_set_sha256"])):
            if sha:
                checkpoints[stage] = sha
            elif row["stage"] == stage:
                checkpoints["_started"] = [stage]
        if row["server_adapter_id"] or row["server_sample_set_id"]:
            checkpoints["uploading"] = {"adapter_id": row["server_adapter_id"],
                                        "sample_set_id": row["server_sample_set_id"]}
        if checkpoints:
            bind.execute(runs.update().where(runs.c.run_id == row["run_id"]).values(checkpoints=checkpoints))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for column in ("heartbeat", "worker", "attempts", "cancel_requested", "checkpoints"):
            batch.drop_column(column)
