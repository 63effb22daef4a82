"""Jobs: create, list, read, cancel, and their results (samples as JSONL, the knowledge adapter)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import FileResponse

from server_node.adapters.intake import read_stored_metadata
from server_node.api.deps import CurrentClient, SessionDep, StateDep
from server_node.jobs.checks import check_against_backend
from server_node.jobs.store import cancel_job, create_job, get_owned_job, list_jobs, to_public
from shared.errors import (
    AdapterNotFoundError,
    ConditionSharesError,
    ExampleRowsError,
    JobFinishedError,
    JobNotFoundError,
    JobNotReadyError,
    RequestInvalidError,
    RequestTooLargeError,
    SampleSetNotFoundError,
    SamplingGuidanceError,
)
from shared.protocol import JobCreateRequest, JobPublic, JobsPublic
from shared.web.openapi import error_responses
from shared.web.paging import Limit, Offset

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post("", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=error_responses(AdapterNotFoundError, SampleSetNotFoundError, RequestInvalidError,
                                       ConditionSharesError, ExampleRowsError, SamplingGuidanceError,
                                       RequestTooLargeError))
def create(request: JobCreateRequest, session: SessionDep, client: CurrentClient, state: StateDep) -> JobPublic:
    """Queue a job on one of the caller's adapters (checked against the adapter); a worker picks it up."""
    check_against_backend(request, state.jobs.backend)
    template_of = lambda row: read_stored_metadata(  # noqa: E731
        state.store, row, max_bytes=state.settings.max_adapter_bytes).template
    return to_public(create_job(session, owner_id=client.client_id, request=request, template_of=template_of))


@router.get("", response_model=JobsPublic)
def read_all(session: SessionDep, client: CurrentClient, limit: Limit = 100, offset: Offset = 0) -> JobsPublic:
    """The caller's jobs, newest first."""
    rows, total = list_jobs(session, owner_id=client.client_id, limit=limit, offset=offset)
    return JobsPublic(data=[to_public(r) for r in rows], count=total)


@router.get("/{job_id}", response_model=JobPublic, responses=error_responses(JobNotFoundError))
def read(job_id: str, session: SessionDep, client: CurrentClient) -> JobPublic:
    """State, stage, progress, counts, timings and error of one job."""
    return to_public(get_owned_job(session, job_id=job_id, owner_id=client.client_id))


@router.delete("/{job_id}", response_model=JobPublic, responses=error_responses(JobNotFoundError, JobFinishedError))
def cancel(job_id: str, session: SessionDep, client: CurrentClient) -> JobPublic:
    """Cancel a queued or running job (a running one stops at its next batch)."""
    return to_public(cancel_job(session, job_id=job_id, owner_id=client.client_id))


@router.get("/{job_id}/samples", response_class=FileResponse,
            responses={200: {"content": {"application/x-ndjson": {}}, "description": "one SyntheticSample per line"},
                       **error_responses(JobNotFoundError, JobNotReadyError)})
def read_samples(job_id: str, session: SessionDep, state: StateDep, client: CurrentClient) -> FileResponse:
    """The refined synthetic samples, one JSON object per line, each with its grade and reason."""
    job = get_owned_job(session, job_id=job_id, owner_id=client.client_id)
    if not job.samples_sha256:
        raise JobNotReadyError(f"job {job_id!r} has no samples yet (state {job.state}, stage {job.stage})",
                               detail={"job_id": job_id, "state": job.state, "stage": job.stage})
    return FileResponse(state.store.path(job.samples_sha256), media_type="application/x-ndjson",
                        filename=f"{job_id}-samples.jsonl")


@router.get("/{job_id}/adapter", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "safetensors adapter"},
                       **error_responses(JobNotFoundError, JobNotReadyError)})
def read_adapter(job_id: str, session: SessionDep, state: StateDep, client: CurrentClient) -> FileResponse:
    """The knowledge adapter (safetensors; its certificate is inherited from the client's DP adapter)."""
    job = get_owned_job(session, job_id=job_id, owner_id=client.client_id)
    if not job.adapter_sha256:
        asked = bool(job.request.get("train_knowledge_adapter", True))
        raise JobNotReadyError(
            f"job {job_id!r} has no knowledge adapter " + (f"(state {job.state})" if asked else "(it was not asked for)"),
            detail={"job_id": job_id, "state": job.state, "requested": asked})
    return FileResponse(state.store.path(job.adapter_sha256), media_type="application/octet-stream",
                        filename=f"{job_id}-knowledge.safetensors", headers={"X-Adapter-SHA256": job.adapter_sha256})
