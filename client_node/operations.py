"""Client operations as plain functions: what the CLI (and later the REST API) call."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from client_node.core.context import ClientContext
from client_node.datasets.intake import ParsedDataset, read_dataset
from client_node.tables.intake import ParsedTable, read_table
from client_node.training.private_run import PrivateRun, run_private_training
from shared.models.loading import load_for
from shared.training.config import TrainConfig


def add_dataset(
    ctx: ClientContext,
    path: Path,
    *,
    name: str,
    task: str,
    epsilon_budget: float,
    delta_budget: float | None = None,
    column_map: Mapping[str, str] | None = None,
    holdout_fraction: float = 0.1,
    conditions: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Validate and store a private dataset file and give it a privacy budget (delta default: 1/N);
    ``conditions`` declares the domains of the records' conditions (see ``read_dataset``)."""
    return add_parsed_dataset(ctx, read_dataset(path, column_map=column_map, conditions=conditions), name=name, task=task,
                              epsilon_budget=epsilon_budget, delta_budget=delta_budget, holdout_fraction=holdout_fraction)


def add_parsed_dataset(
    ctx: ClientContext,
    parsed: ParsedDataset,
    *,
    name: str,
    task: str,
    epsilon_budget: float,
    delta_budget: float | None = None,
    holdout_fraction: float = 0.1,
) -> dict[str, Any]:
    """Store validated records with a privacy budget (the file and the HTTP upload paths share this)."""
    stored = ctx.datasets.add(parsed.records, name=name, task=task, holdout_fraction=holdout_fraction,
                              conditions=parsed.conditions)
    delta = delta_budget if delta_budget is not None else 1.0 / max(2, len(parsed.records))
    budget = ctx.ledger.set_budget(stored.dataset_id, epsilon=epsilon_budget, delta=delta)
    return {**stored.summary(), "duplicates_dropped": len(parsed.report.duplicate_lines),
            "duplicate_lines": parsed.report.duplicate_lines[:20], "budget": budget.as_dict()}


def add_table(
    ctx: ClientContext, path: Path, *, name: str, task: str, epsilon_budget: float, delta_budget: float | None = None,
    label: str | None = None, kinds: Mapping[str, str] | None = None,
    public_categories: Mapping[str, Sequence[str]] | None = None,
    public_bounds: Mapping[str, Sequence[float]] | None = None,
    public_cuts: Mapping[str, Sequence[float]] | None = None, columns: Sequence[str] | None = None,
    holdout_fraction: float = 0.1,
) -> dict[str, Any]:
    """Validate and store a private table (CSV or Parquet) with its schema and a privacy budget."""
    parsed = read_table(path, label=label, kinds=kinds, public_categories=public_categories,
                        public_bounds=public_bounds, public_cuts=public_cuts, columns=columns)
    return add_parsed_table(ctx, parsed, name=name, task=task, epsilon_budget=epsilon_budget, delta_budget=delta_budget,
                            holdout_fraction=holdout_fraction)


def add_parsed_table(
    ctx: ClientContext, parsed: ParsedTable, *, name: str, task: str, epsilon_budget: float,
    delta_budget: float | None = None, holdout_fraction: float = 0.1,
) -> dict[str, Any]:
    """Store validated table rows with their schema and a privacy budget (delta default: 1/N)."""
    stored = ctx.datasets.add_table(parsed.rows, parsed.schema, name=name, task=task, holdout_fraction=holdout_fraction)
    delta = delta_budget if delta_budget is not None else 1.0 / max(2, len(parsed.rows))
    budget = ctx.ledger.set_budget(stored.dataset_id, epsilon=epsilon_budget, delta=delta)
    return {**stored.summary(), "duplicates_dropped": 0, "duplicate_lines": [], "budget": budget.as_dict()}


def list_datasets(ctx: ClientContext, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of datasets (in id order) with their budgets, and how many there are in all."""
    ids = ctx.datasets.ids()
    page = ids[offset:] if limit is None else ids[offset:offset + limit]
    summaries = [ctx.datasets.get(dataset_id).summary() for dataset_id in page]
    return [{**s, "budget": ctx.ledger.status(str(s["dataset_id"])).as_dict()} for s in summaries], len(ids)


def show_dataset(ctx: ClientContext, dataset_id: str) -> dict[str, Any]:
    stored = ctx.datasets.get(dataset_id)
    return {**stored.summary(), "budget": ctx.ledger.status(dataset_id).as_dict(), "runs": ctx.ledger.runs(dataset_id)}


def train_adapter(
    ctx: ClientContext, dataset_id: str, *, config: TrainConfig, out: Path | None = None, progress: bool = True
) -> tuple[PrivateRun, Path]:
    """DP-train an adapter on a stored dataset and write it (named by its sha256) under the data dir."""
    dataset = ctx.datasets.get(dataset_id)
    ctx.ledger.status(dataset_id)  # a clear error before loading any model if it has no budget
    from shared.compute import resolve_compute

    loaded = load_for(ctx.settings.base_model, resolve_compute(config.device, config.precision), prepare=True)
    run = run_private_training(dataset=dataset, ledger=ctx.ledger, config=config, model=loaded.model,
                               tokenizer=loaded.tokenizer, base=loaded.signature(), progress=progress)
    sha = hashlib.sha256(run.adapter).hexdigest()
    target = out or ctx.settings.adapters_dir / f"{sha}.safetensors"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_bytes(run.adapter)
    tmp.replace(target)
    return run, target


def run_summary(run: PrivateRun, path: Path) -> dict[str, Any]:
    cert = run.result.certificate
    return {"run_id": run.run_id, "adapter": str(path), "sha256": hashlib.sha256(run.adapter).hexdigest(),
            "certificate": cert.model_dump(mode="json"), "epsilon": cert.epsilon if math.isfinite(cert.epsilon) else "inf",
            "steps": cert.steps, "seconds": round(run.result.seconds, 1), "empty_batches": run.result.empty_batches,
            "truncated_examples": run.result.truncated_examples, "final_loss": run.result.losses[-1] if run.result.losses else None,
            "budget": run.budget.as_dict(),
            "compute": run.result.compute.as_dict() if run.result.compute else None}
