"""Private datasets: upload (the file as the body), list, show with budget and runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from client_node.api.deps import Operator, StateDep
from client_node.datasets.intake import parse_dataset
from client_node.operations import add_parsed_dataset, list_datasets, show_dataset
from shared.web.body import read_limited_body

router = APIRouter(prefix="/datasets", tags=["datasets"], dependencies=[Operator])

MAX_DATASET_BYTES = 256 * 1024 * 1024


@router.post("", status_code=status.HTTP_201_CREATED,
             openapi_extra={"requestBody": {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
async def create_dataset(
    request: Request, state: StateDep, name: Annotated[str, Query(min_length=1, max_length=200)],
    task: Annotated[str, Query(min_length=1, max_length=2000, description="data-free description of the records")],
    epsilon_budget: Annotated[float, Query(gt=0)], delta_budget: Annotated[float | None, Query(gt=0, lt=1)] = None,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
    holdout_fraction: Annotated[float, Query(gt=0, lt=1)] = 0.1,
) -> dict[str, Any]:
    """Validate and store a dataset (JSONL or CSV body) with its privacy budget."""
    data = await read_limited_body(request, MAX_DATASET_BYTES)

    def add() -> dict[str, Any]:
        parsed = parse_dataset(data, fmt=format)
        return add_parsed_dataset(state.ctx, parsed, name=name, task=task, epsilon_budget=epsilon_budget,
                                  delta_budget=delta_budget, holdout_fraction=holdout_fraction)

    return await run_in_threadpool(add)


@router.get("")
def read_datasets(state: StateDep) -> dict[str, Any]:
    data = list_datasets(state.ctx)
    return {"data": data, "count": len(data)}


@router.get("/{dataset_id}")
def read_dataset_info(dataset_id: str, state: StateDep) -> dict[str, Any]:
    """A dataset's split, budget (spent and left) and runs."""
    return show_dataset(state.ctx, dataset_id)
