"""Runs: create, list, read, cancel; results: the knowledge adapter, the synthetic samples, the report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import FileResponse

from client_node.api.deps import Operator, StateDep
from client_node.runs.schemas import RunCreateRequest, RunPublic, RunsPublic
from client_node.runs.service import raise_not_ready, result_path, submit_run
from client_node.runs.store import cancel_run, get_run, list_runs, to_public

router = APIRouter(prefix="/runs", tags=["runs"], dependencies=[Operator])


@router.post("", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED)
def create(request: RunCreateRequest, state: StateDep) -> RunPublic:
    """Queue a run; its planned DP spend is checked against the dataset's budget first."""
    return to_public(submit_run(state.ctx, request))


@router.get("", response_model=RunsPublic)
def read_all(state: StateDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
             offset: Annotated[int, Query(ge=0)] = 0) -> RunsPublic:
    rows, total = list_runs(state.ctx.ledger.engine, limit=limit, offset=offset)
    return RunsPublic(data=[to_public(r) for r in rows], count=total)


@router.get("/{run_id}", response_model=RunPublic)
def read(run_id: str, state: StateDep) -> RunPublic:
    return to_public(get_run(state.ctx.ledger.engine, run_id))


@router.delete("/{run_id}", response_model=RunPublic)
def cancel(run_id: str, state: StateDep) -> RunPublic:
    return to_public(cancel_run(state.ctx.ledger.engine, run_id))


@router.get("/{run_id}/report")
def read_report(run_id: str, state: StateDep) -> dict[str, Any]:
    row = get_run(state.ctx.ledger.engine, run_id)
    if not row.report:
        raise_not_ready(row, "report")
    return dict(row.report)


@router.get("/{run_id}/samples", response_class=FileResponse)
def read_samples(run_id: str, state: StateDep) -> FileResponse:
    row = get_run(state.ctx.ledger.engine, run_id)
    return FileResponse(result_path(state.ctx, row, "samples"), media_type="application/x-ndjson",
                        filename=f"{run_id}-samples.jsonl")


@router.get("/{run_id}/adapter", response_class=FileResponse)
def read_adapter(run_id: str, state: StateDep) -> FileResponse:
    row = get_run(state.ctx.ledger.engine, run_id)
    return FileResponse(result_path(state.ctx, row, "knowledge_adapter"), media_type="application/octet-stream",
                        filename=f"{run_id}-knowledge.safetensors")
