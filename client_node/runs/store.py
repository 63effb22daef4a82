"""Runs in the client database, the operator's side: create, read, list, cancel. Claiming, progress,
recovery and finishing are the durable engine's (``run_queue``)."""

from __future__ import annotations

import math
import uuid

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from client_node.runs.schemas import RunCreateRequest, RunPublic, RunState
from client_node.runs.tables import RunRow
from shared.durable import WorkQueue
from shared.errors import JobFinishedError, RunNotFoundError
from shared.protocol import ErrorInfo, JobPublic, Progress


def create_run(engine: Engine, *, request: RunCreateRequest, server_url: str) -> RunRow:
    with Session(engine, expire_on_commit=False) as session:
        row = RunRow(run_id=uuid.uuid4().hex, dataset_id=request.dataset_id, server_url=server_url,
                     request=request.model_dump(mode="json"), state=RunState.QUEUED.value, timings={})
        session.add(row)
        session.commit()
        return row


def get_run(engine: Engine, run_id: str) -> RunRow:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(RunRow, run_id)
        if row is None:
            raise RunNotFoundError(f"no run {run_id!r}", detail={"run_id": run_id})
        return row


def list_runs(engine: Engine, *, limit: int = 100, offset: int = 0) -> tuple[list[RunRow], int]:
    """Runs, newest first, and how many there are in all."""
    return run_queue(engine).page(limit=limit, offset=offset)


def run_queue(engine: Engine) -> WorkQueue[RunRow]:
    return WorkQueue(engine, RunRow, RunRow.run_id)


def cancel_run(engine: Engine, run_id: str) -> RunRow:
    """A queued run is cancelled at once; a running one at its next step, batch or poll."""
    get_run(engine, run_id)
    run_queue(engine).request_cancel(run_id, already_finished=lambda state: JobFinishedError(
        f"run {run_id!r} already {state}", detail={"run_id": run_id, "state": state}))
    return get_run(engine, run_id)


def to_public(row: RunRow) -> RunPublic:
    return RunPublic(
        run_id=row.run_id, dataset_id=row.dataset_id, server_url=row.server_url, state=RunState(row.state),
        stage=row.stage, progress=Progress(done=min(row.progress_done, row.progress_total or row.progress_done),
                                           total=row.progress_total),
        timings=dict(row.timings or {}), epsilon_spent=row.epsilon if row.epsilon is not None and math.isfinite(row.epsilon) else None,
        adapter_sha256=row.adapter_sha256, sample_set_sha256=row.sample_set_sha256, server_job=JobPublic.model_validate(row.server_job) if row.server_job else None,
        report=row.report, error=ErrorInfo(**row.error) if row.error else None, created_at=row.created_at,
        updated_at=row.updated_at,
    )
