"""Private datasets: upload (the file as the body), list, show with budget and runs."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from client_node.api.deps import Operator, StateDep
from client_node.datasets.intake import parse_dataset
from client_node.operations import add_parsed_dataset, add_parsed_table, list_datasets, show_dataset
from client_node.tables.intake import parse_table
from shared.errors import (
    DatasetNotFoundError,
    DatasetValidationError,
    RequestInvalidError,
    RequestTooLargeError,
    TableSchemaError,
)
from shared.web.body import read_limited_body
from shared.web.openapi import error_responses
from shared.web.paging import Limit, Offset

router = APIRouter(prefix="/datasets", tags=["datasets"], dependencies=[Operator])

MAX_DATASET_BYTES = 256 * 1024 * 1024


@router.post("", status_code=status.HTTP_201_CREATED,
             responses=error_responses(DatasetValidationError, TableSchemaError, RequestTooLargeError,
                                       RequestInvalidError),
             openapi_extra={"requestBody": {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
async def create_dataset(
    request: Request, state: StateDep, name: Annotated[str, Query(min_length=1, max_length=200)],
    task: Annotated[str, Query(min_length=1, max_length=2000, description="data-free description of the records")],
    epsilon_budget: Annotated[float, Query(gt=0)], delta_budget: Annotated[float | None, Query(gt=0, lt=1)] = None,
    format: Annotated[Literal["jsonl", "csv", "parquet"] | None, Query(description="default: jsonl, tables csv")] = None,
    holdout_fraction: Annotated[float, Query(gt=0, lt=1)] = 0.1,
    kind: Annotated[Literal["text", "table"], Query(description="table: a CSV/Parquet table with a schema")] = "text",
    label: Annotated[str | None, Query(description="table: the label column (categorical, declared)")] = None,
    kinds: Annotated[str | None, Query(description='table: JSON {"column": "categorical|integer|float"}')] = None,
    public_categories: Annotated[str | None, Query(description=(
        'table: JSON {"column": ["value", ...]}, required for every categorical column'))] = None,
    public_bounds: Annotated[str | None, Query(description=(
        'table: JSON {"column": [lower, upper]}, required for every numeric column'))] = None,
    public_cuts: Annotated[str | None, Query(description=(
        'table: JSON {"column": [cut, ...]}, a numeric column\'s bins (default: equal width)'))] = None,
    conditions: Annotated[str | None, Query(description=(
        'records: JSON {"name": ["value", ...]}, the declared domains of the records\' conditions (e.g. '
        '{"label": ["negative", "positive"]}); every record then carries one of each'))] = None,
) -> dict[str, Any]:
    """Validate and store a dataset (JSONL or CSV records, or a CSV/Parquet table) with its privacy budget.

    A table declares every column's public domain (categories, or numeric bounds): a column without one is
    a 422 `table_schema_invalid` naming it, since nothing about a domain is read off the private rows."""
    data = await read_limited_body(request, MAX_DATASET_BYTES)
    if kind == "table":
        format = format or "csv"
        if format == "jsonl":
            raise TableSchemaError("a table is uploaded as format 'csv' or 'parquet'")
        overrides, declared = _json_query("kinds", kinds), _json_query("public_categories", public_categories)
        bounds, cuts = _json_query("public_bounds", public_bounds), _json_query("public_cuts", public_cuts)

        def add_table() -> dict[str, Any]:
            parsed = parse_table(data, fmt=format, label=label, kinds=overrides, public_categories=declared,
                                 public_bounds=bounds, public_cuts=cuts)
            return add_parsed_table(state.ctx, parsed, name=name, task=task, epsilon_budget=epsilon_budget,
                                    delta_budget=delta_budget, holdout_fraction=holdout_fraction)

        return await run_in_threadpool(add_table)
    if format == "parquet":
        raise DatasetValidationError("parquet is for tables (kind=table); records come as jsonl or csv")

    text_format = format or "jsonl"
    domains = _json_query("conditions", conditions, error=DatasetValidationError)

    def add() -> dict[str, Any]:
        parsed = parse_dataset(data, fmt=text_format, conditions=domains or None)
        return add_parsed_dataset(state.ctx, parsed, name=name, task=task, epsilon_budget=epsilon_budget,
                                  delta_budget=delta_budget, holdout_fraction=holdout_fraction)

    return await run_in_threadpool(add)


def _json_query(name: str, value: str | None, *,
                error: type[DatasetValidationError] | type[TableSchemaError] = TableSchemaError) -> dict[str, Any]:
    if value is None:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        raise error(f"{name} must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise error(f"{name} must be a JSON object")
    return parsed


@router.get("")
def read_datasets(state: StateDep, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    """Datasets in id order, with their budgets (spent and left); `count` is the total."""
    data, total = list_datasets(state.ctx, limit=limit, offset=offset)
    return {"data": data, "count": total}


@router.get("/{dataset_id}", responses=error_responses(DatasetNotFoundError))
def read_dataset_info(dataset_id: str, state: StateDep) -> dict[str, Any]:
    """A dataset's split, budget (spent and left) and runs."""
    return show_dataset(state.ctx, dataset_id)
