"""Run operations the API and the CLI share: submit (with the budget checked up front), find results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NoReturn

from client_node.core.context import ClientContext
from client_node.runs.schemas import RunCreateRequest
from client_node.runs.store import create_run
from client_node.runs.tables import RunRow
from shared.errors import JobNotReadyError, PrivacyBudgetExceededError, TrainingConfigError
from shared.storage import ArtifactStore


def submit_run(ctx: ClientContext, request: RunCreateRequest) -> RunRow:
    """Queue a run after checking what can be checked without training: the dataset, the server URL, and
    that the target epsilon fits what is left of the dataset's budget."""
    dataset = ctx.datasets.get(request.dataset_id)
    server_url = request.server_url or ctx.settings.server_url
    if not server_url:
        raise TrainingConfigError("no server URL: set PRIVSYNTH_CLIENT_SERVER_URL or give server_url")
    status = ctx.ledger.status(dataset.dataset_id)
    left = status.epsilon_budget - status.epsilon_spent if math.isfinite(status.epsilon_budget) else math.inf
    if request.epsilon > left:
        raise PrivacyBudgetExceededError(
            f"target epsilon {request.epsilon} is above what is left of the budget ({left:.3f})",
            detail={"requested": request.epsilon, "left": left})
    return create_run(ctx.ledger.engine, request=request, server_url=server_url.rstrip("/"))


def result_path(ctx: ClientContext, row: RunRow, what: str) -> Path:
    """Where a finished run's result lies; JobNotReadyError (409) until it exists."""
    sha = {"samples": row.samples_sha256, "knowledge_adapter": row.knowledge_sha256}[what]
    if not sha:
        raise_not_ready(row, what)
    return ArtifactStore(ctx.settings.artifacts_dir).path(sha)


def raise_not_ready(row: RunRow, what: str) -> NoReturn:
    """JobNotReadyError (409): the run has no such result (yet)."""
    raise JobNotReadyError(f"run {row.run_id} has no {what.replace('_', ' ')} (state {row.state}, stage {row.stage})",
                           detail={"run_id": row.run_id, "state": row.state})
