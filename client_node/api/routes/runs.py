"""Runs: create, list, read, cancel; results: the knowledge adapter, the synthetic samples, the report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import FileResponse

from client_node.api.deps import Operator, StateDep
from client_node.runs.schemas import RunCreateRequest, RunPublic, RunsPublic
from client_node.runs.service import raise_not_ready, result_path, submit_run
from client_node.runs.store import cancel_run, get_run, list_runs, to_public
from shared.errors import (
    DatasetNotFoundError,
    DeviceUnavailableError,
    JobFinishedError,
    JobNotReadyError,
    PrivacyBudgetExceededError,
    RequestInvalidError,
    RunNotFoundError,
    TrainingConfigError,
)
from shared.web.openapi import error_responses
from shared.web.paging import Limit, Offset

router = APIRouter(prefix="/runs", tags=["runs"], dependencies=[Operator])
_FOUND = error_responses(RunNotFoundError)


@router.post("", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=error_responses(DatasetNotFoundError, PrivacyBudgetExceededError, TrainingConfigError,
                                       DeviceUnavailableError, RequestInvalidError))
def create(request: RunCreateRequest, state: StateDep) -> RunPublic:
    """Queue a run; its planned DP spend is checked against the dataset's budget first."""
    return to_public(submit_run(state.ctx, request))


@router.get("", response_model=RunsPublic)
def read_all(state: StateDep, limit: Limit = 100, offset: Offset = 0) -> RunsPublic:
    """Runs, newest first (`count` is the total; page with `limit` and `offset`)."""
    rows, total = list_runs(state.ctx.ledger.engine, limit=limit, offset=offset)
    return RunsPublic(data=[to_public(r) for r in rows], count=total)


@router.get("/{run_id}", response_model=RunPublic, responses=_FOUND)
def read(run_id: str, state: StateDep) -> RunPublic:
    """State, stage, progress, timings, epsilon spent, the server job as last seen, report and error."""
    return to_public(get_run(state.ctx.ledger.engine, run_id))


@router.delete("/{run_id}", response_model=RunPublic, responses=error_responses(RunNotFoundError, JobFinishedError))
def cancel(run_id: str, state: StateDep) -> RunPublic:
    """Cancel a queued or running run (its DP spend so far stays charged)."""
    return to_public(cancel_run(state.ctx.ledger.engine, run_id))


@router.get("/{run_id}/report", responses=error_responses(RunNotFoundError, JobNotReadyError))
def read_report(run_id: str, state: StateDep) -> dict[str, Any]:
    """The evaluation report (utility, privacy, the certificate, timings, compute)."""
    row = get_run(state.ctx.ledger.engine, run_id)
    if not row.report:
        raise_not_ready(row, "report")
    return dict(row.report)


@router.get("/{run_id}/samples", response_class=FileResponse,
            responses={200: {"content": {"application/x-ndjson": {}}, "description": "one sample per line"},
                       **error_responses(RunNotFoundError, JobNotReadyError)})
def read_samples(run_id: str, state: StateDep) -> FileResponse:
    """The refined synthetic samples (JSONL), as downloaded from the server."""
    row = get_run(state.ctx.ledger.engine, run_id)
    return FileResponse(result_path(state.ctx, row, "samples"), media_type="application/x-ndjson",
                        filename=f"{run_id}-samples.jsonl")


@router.get("/{run_id}/adapter", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "safetensors adapter"},
                       **error_responses(RunNotFoundError, JobNotReadyError)})
def read_adapter(run_id: str, state: StateDep) -> FileResponse:
    """The knowledge adapter, verified against this client's base model and DP certificate."""
    row = get_run(state.ctx.ledger.engine, run_id)
    return FileResponse(result_path(state.ctx, row, "knowledge_adapter"), media_type="application/octet-stream",
                        filename=f"{run_id}-knowledge.safetensors")
