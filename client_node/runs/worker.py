"""The client service's run worker at start-up: ledger runs left open by a stopped client are closed, then
runs resume on the durable engine (``shared.durable``)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from client_node.runs.runner import RunContext, run_worker
from client_node.runs.tables import RunRow
from shared.durable import Worker
from shared.protocol import JobState

logger = logging.getLogger(__name__)


def start_run_worker(ctx: RunContext) -> Worker:
    """Close ledger runs that belong to no queued or running run (a killed ``client-node train``, a run
    whose row ended), then start the worker. The ledger runs of interrupted runs are closed when the run
    resumes and finds its DP step interrupted."""
    with Session(ctx.client.ledger.engine) as session:
        alive = set(session.scalars(select(RunRow.run_id).where(
            RunRow.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]))))
    for spend_id in ctx.client.ledger.fail_interrupted(only=lambda spend: spend.split(".")[0] not in alive):
        logger.warning("ledger run %s was left open by a stopped client: closed, charged what it recorded", spend_id)
    ctx.artifacts.sweep_incoming()
    worker = run_worker(ctx)
    worker.start()
    return worker
