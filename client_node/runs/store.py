"""Runs in the client database: create, read, list, cancel, and the worker's claim and updates."""

from __future__ import annotations

import math
import uuid
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from client_node.runs.schemas import RunCreateRequest, RunPublic, RunState
from client_node.runs.tables import RunRow
from shared.errors import JobFinishedError, RunNotFoundError, SynthError
from shared.protocol import ErrorInfo, JobPublic, Progress

TERMINAL = [s.value for s in RunState if s.terminal]


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
    with Session(engine, expire_on_commit=False) as session:
        total = session.scalar(select(func.count()).select_from(RunRow)) or 0
        rows = session.scalars(select(RunRow).order_by(RunRow.created_at.desc()).limit(limit).offset(offset)).all()
        return list(rows), int(total)


def cancel_run(engine: Engine, run_id: str) -> RunRow:
    """A queued run is cancelled at once; a running one at its next step or poll."""
    row = get_run(engine, run_id)
    if RunState(row.state).terminal:
        raise JobFinishedError(f"run {run_id!r} already {row.state}", detail={"run_id": run_id, "state": row.state})
    with Session(engine) as session:
        session.execute(update(RunRow).where(RunRow.run_id == run_id, RunRow.state.not_in(TERMINAL))
                        .values(state=RunState.CANCELLED.value))
        session.commit()
    return get_run(engine, run_id)


def claim_next(engine: Engine) -> str | None:
    with Session(engine) as session:
        for run_id in session.scalars(select(RunRow.run_id).where(RunRow.state == RunState.QUEUED.value)
                                      .order_by(RunRow.created_at).limit(5)):
            claimed = session.execute(update(RunRow).where(RunRow.run_id == run_id, RunRow.state == RunState.QUEUED.value)
                                      .values(state=RunState.RUNNING.value)).rowcount
            session.commit()
            if claimed:
                return run_id
    return None


def requeue_running(engine: Engine) -> list[str]:
    """At start-up: runs left running by a stopped client go back to the queue (they resume)."""
    with Session(engine) as session:
        ids = list(session.scalars(select(RunRow.run_id).where(RunRow.state == RunState.RUNNING.value)))
        session.execute(update(RunRow).where(RunRow.run_id.in_(ids)).values(state=RunState.QUEUED.value))
        session.commit()
    return ids


def update_run(engine: Engine, run_id: str, **values: Any) -> str:
    """Write fields of a run; returns its state (so the runner sees a cancel)."""
    with Session(engine) as session:
        if values:
            session.execute(update(RunRow).where(RunRow.run_id == run_id).values(**values))
            session.commit()
        return str(session.scalar(select(RunRow.state).where(RunRow.run_id == run_id)))


def finish_run(engine: Engine, run_id: str, state: RunState, *, error: SynthError | None = None, **values: Any) -> None:
    body = error.to_body()["error"] if error is not None else None
    with Session(engine) as session:
        session.execute(update(RunRow).where(RunRow.run_id == run_id, RunRow.state.not_in(TERMINAL))
                        .values(state=state.value, error=body, **values))
        session.commit()


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
