"""Jobs in the database: create, read, list, cancel, and the worker's claim / heartbeat / recovery.

Plain functions over SQLAlchemy sessions. The state machine is

    queued -> running -> succeeded | failed | cancelled       (queued -> cancelled directly)

and a running job whose worker stops sending heartbeats (killed, restarted) is put back in the queue
to resume after its last finished stage, or failed once it has been interrupted too often.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from server_node.adapters.intake import get_owned_adapter
from server_node.models import Job
from server_node.samples.intake import get_owned_sample_set
from server_node.tenancy import get_owned
from shared.errors import JobFinishedError, JobInterruptedError, JobNotFoundError, SynthError
from shared.protocol import ErrorInfo, JobCounts, JobCreateRequest, JobPublic, JobStage, JobState, Progress

TERMINAL = [s.value for s in JobState if s.terminal]


def create_job(session: Session, *, owner_id: str, request: JobCreateRequest) -> Job:
    """Queue a job on one of the caller's adapters (or sample sets)."""
    if request.adapter_id is not None:
        get_owned_adapter(session, adapter_id=request.adapter_id, owner_id=owner_id)
    else:
        get_owned_sample_set(session, sample_set_id=request.sample_set_id or "", owner_id=owner_id)
    job = Job(job_id=uuid.uuid4().hex, owner_id=owner_id, adapter_id=request.adapter_id,
              sample_set_id=request.sample_set_id,
              request=request.model_dump(mode="json"), state=JobState.QUEUED.value, counts={}, timings={},
              checkpoints={})
    session.add(job)
    session.commit()
    return job


def get_owned_job(session: Session, *, job_id: str, owner_id: str) -> Job:
    """The caller's job; another client's job is indistinguishable from a missing one (404)."""
    return get_owned(session, Job, job_id, owner_id=owner_id, missing=JobNotFoundError, what="job")


def list_jobs(session: Session, *, owner_id: str, limit: int = 100, offset: int = 0) -> tuple[list[Job], int]:
    """The caller's jobs, newest first, and how many there are in all."""
    query = select(Job).where(Job.owner_id == owner_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Job.created_at.desc()).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def cancel_job(session: Session, *, job_id: str, owner_id: str) -> Job:
    """A queued job is cancelled at once; a running one when its pipeline next checks (within a batch)."""
    job = get_owned_job(session, job_id=job_id, owner_id=owner_id)
    if JobState(job.state).terminal:
        raise JobFinishedError(f"job {job_id!r} already {job.state}", detail={"job_id": job_id, "state": job.state})
    # One conditional UPDATE each, so a worker claiming the job at the same moment cannot be overwritten.
    cancelled = session.execute(
        update(Job).where(Job.job_id == job_id, Job.state == JobState.QUEUED.value)
        .values(state=JobState.CANCELLED.value, cancel_requested=True)
    ).rowcount
    if not cancelled:
        session.execute(update(Job).where(Job.job_id == job_id).values(cancel_requested=True))
    session.commit()
    session.refresh(job)
    return job


def to_public(job: Job) -> JobPublic:
    return JobPublic(
        job_id=job.job_id, adapter_id=job.adapter_id, sample_set_id=job.sample_set_id, state=JobState(job.state),
        stage=JobStage(job.stage) if job.stage else None,
        progress=Progress(done=min(job.progress_done, job.progress_total) if job.progress_total else job.progress_done,
                          total=job.progress_total),
        counts=JobCounts(**(job.counts or {})), timings=dict(job.timings or {}),
        error=ErrorInfo(**job.error) if job.error else None, created_at=job.created_at, updated_at=job.updated_at,
        request=JobCreateRequest.model_validate(job.request), compute=job.compute,
    )


# --- the worker's side ---------------------------------------------------------------------------------


def claim_next(engine: Engine, *, worker_id: str) -> str | None:
    """Atomically move the oldest queued job to running for this worker; its id, or None."""
    with Session(engine) as session:
        for job_id in session.scalars(select(Job.job_id).where(Job.state == JobState.QUEUED.value)
                                      .order_by(Job.created_at).limit(5)):
            claimed = session.execute(
                update(Job).where(Job.job_id == job_id, Job.state == JobState.QUEUED.value)
                .values(state=JobState.RUNNING.value, worker=worker_id, attempts=Job.attempts + 1,
                        heartbeat=time.time(), error=None)
            ).rowcount
            session.commit()
            if claimed:
                return job_id
    return None


def heartbeat(engine: Engine, job_id: str, *, worker_id: str) -> bool:
    """Refresh the job's heartbeat; False when the job is no longer this worker's running job."""
    with Session(engine) as session:
        done = session.execute(update(Job).where(Job.job_id == job_id, Job.worker == worker_id,
                                                 Job.state == JobState.RUNNING.value).values(heartbeat=time.time())).rowcount
        session.commit()
    return bool(done)


def update_job(engine: Engine, job_id: str, **values: Any) -> bool:
    """Write fields of a running job; returns whether the owner asked to cancel it."""
    with Session(engine) as session:
        if values:
            session.execute(update(Job).where(Job.job_id == job_id).values(heartbeat=time.time(), **values))
            session.commit()
        return bool(session.scalar(select(Job.cancel_requested).where(Job.job_id == job_id)))


def finish_job(engine: Engine, job_id: str, state: JobState, *, error: SynthError | None = None, **values: Any) -> None:
    """Move a running job to a terminal state (never overwrites one already terminal)."""
    body = error.to_body()["error"] if error is not None else None
    with Session(engine) as session:
        session.execute(update(Job).where(Job.job_id == job_id, Job.state.not_in(TERMINAL))
                        .values(state=state.value, error=body, worker=None, **values))
        session.commit()


def recover_stale(engine: Engine, *, stale_after: float, max_attempts: int) -> list[str]:
    """Requeue running jobs whose worker went silent (they resume after their last finished stage);
    fail those already started ``max_attempts`` times. Returns the ids touched."""
    cutoff = time.time() - stale_after
    touched = []
    with Session(engine) as session:
        stale = session.scalars(select(Job).where(Job.state == JobState.RUNNING.value,
                                                  (Job.heartbeat.is_(None)) | (Job.heartbeat < cutoff))).all()
        for job in stale:
            touched.append(job.job_id)
            if job.cancel_requested:
                job.state, job.worker = JobState.CANCELLED.value, None
            elif job.attempts >= max_attempts:
                error = JobInterruptedError(
                    f"the job was interrupted {job.attempts} times (server stopped while it ran); giving up",
                    detail={"attempts": job.attempts, "stage": job.stage})
                job.state, job.worker, job.error = JobState.FAILED.value, None, error.to_body()["error"]
            else:
                job.state, job.worker = JobState.QUEUED.value, None
        session.commit()
    return touched


def requeue(engine: Engine, job_id: str, *, worker_id: str) -> None:
    """Give a running job back to the queue on a clean shutdown (its attempt does not count)."""
    with Session(engine) as session:
        session.execute(update(Job).where(Job.job_id == job_id, Job.worker == worker_id, Job.state == JobState.RUNNING.value)
                        .values(state=JobState.QUEUED.value, worker=None, attempts=Job.attempts - 1))
        session.commit()
