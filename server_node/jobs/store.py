"""Jobs in the database, the owner's side: create, read, list, cancel. Claiming, heartbeats, recovery and
finishing are the durable engine's (``job_queue``): a running job whose worker stops sending heartbeats
(killed, restarted) goes back to the queue and resumes after its last finished stage."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server_node.adapters.intake import get_owned_adapter
from server_node.jobs.checks import check_against_template
from server_node.models import Job, StoredAdapter
from server_node.samples.intake import get_owned_sample_set
from server_node.tenancy import get_owned
from shared.durable import WorkQueue
from shared.errors import JobFinishedError, JobNotFoundError
from shared.prompts import GenerationTemplate
from shared.protocol import ErrorInfo, JobCounts, JobCreateRequest, JobPublic, JobStage, JobState, Progress


def create_job(session: Session, *, owner_id: str, request: JobCreateRequest,
               template_of: Callable[[StoredAdapter], GenerationTemplate] | None = None) -> Job:
    """Queue a job on one of the caller's adapters (or sample sets); with ``template_of`` (the adapter's
    template, read from its stored bytes) what the request asks of the adapter is checked first.

    Raises:
        ConditionSharesError, ExampleRowsError: the request does not fit its adapter (nothing queued).
    """
    if request.adapter_id is not None:
        adapter = get_owned_adapter(session, adapter_id=request.adapter_id, owner_id=owner_id)
        if template_of is not None:
            check_against_template(request, template_of(adapter))
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


def job_queue(engine: Engine) -> WorkQueue[Job]:
    return WorkQueue(engine, Job, Job.job_id)


def cancel_job(session: Session, *, job_id: str, owner_id: str) -> Job:
    """A queued job is cancelled at once; a running one when its pipeline next checks (within a batch)."""
    get_owned_job(session, job_id=job_id, owner_id=owner_id)
    job_queue(session.get_bind()).request_cancel(  # type: ignore[arg-type]
        job_id, already_finished=lambda state: JobFinishedError(f"job {job_id!r} already {state}",
                                                                detail={"job_id": job_id, "state": state}))
    session.expire_all()
    return get_owned_job(session, job_id=job_id, owner_id=owner_id)


def to_public(job: Job) -> JobPublic:
    return JobPublic(
        job_id=job.job_id, adapter_id=job.adapter_id, sample_set_id=job.sample_set_id, state=JobState(job.state),
        stage=JobStage(job.stage) if job.stage else None,
        progress=Progress(done=min(job.progress_done, job.progress_total) if job.progress_total else job.progress_done,
                          total=job.progress_total),
        counts=JobCounts(**(job.counts or {})), timings=dict(job.timings or {}),
        error=ErrorInfo(**job.error) if job.error else None, created_at=job.created_at, updated_at=job.updated_at,
        request=_echo(JobCreateRequest.model_validate(job.request)), compute=job.compute,
    )


def _echo(request: JobCreateRequest) -> JobCreateRequest:
    """The request as a job's state echoes it, polled every few seconds: without a table job's example rows
    (up to 4,096 rows, hundreds of kilobytes), which the job keeps."""
    if not request.table.example_rows:
        return request
    return request.model_copy(update={"table": request.table.model_copy(update={"example_rows": None})})
