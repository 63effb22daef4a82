"""A DP table run on the client: the reference pool (under DP), HARMONIC examples, DP-LoRA training.

One ledger run holds both releases: ``reference_share`` of the run's (epsilon, delta) calibrates the
reference pool's Gaussian release (noisy histograms, or AIM/MST marginals), which is charged first as one
RDP history entry; DP-SGD's noise is then calibrated so that the release and the steps together compose
(RDP) to the run's epsilon, and the certificate carries that history (the server recomputes it). The
budget check covers both before anything is released.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from client_node.datasets.store import StoredDataset
from client_node.ledger.ledger import BudgetStatus, PrivacyLedger
from client_node.tables.reference import ReferencePool, make_pool, plan_pool
from client_node.tables.settings import NeighbourSource, TableSettings
from client_node.training.export import export_adapter
from client_node.training.private_run import train_charged
from shared.errors import DatasetValidationError, TableNeighboursError, TrainingConfigError
from shared.models.architecture import BaseModelSignature
from shared.prompts import GenerationTemplate
from shared.records import Record
from shared.tables.neighbours import ExampleSet, table_examples
from shared.tables.rows import Row
from shared.tables.schema import TableSchema
from shared.training.config import TrainConfig
from shared.training.data import physical_batch_for
from shared.training.engine import StepInfo, TrainResult
from shared.training.examples import tokenize_examples

MAX_TRUNCATED_SHARE = 0.02


@dataclass
class TableRun:
    run_id: str
    adapter: bytes
    result: TrainResult
    template: GenerationTemplate
    examples: ExampleSet
    reference: ReferencePool | None
    budget: BudgetStatus
    label_rows: dict[str, float] | None = None  # rows per label that may leave with the adapter (see _label_rows)
    example_rows: list[Row] | None = None  # reference rows for the job's prompts (``TableSettings.example_rows``)

    def as_dict(self) -> dict[str, object]:
        return {"examples": len(self.examples.records), "dropped_inconsistent": self.examples.dropped_inconsistent,
                "without_neighbours": self.examples.empty,
                "reference_pool": self.reference.as_dict() if self.reference else None,
                "label_rows": self.label_rows,
                "truncated_examples": self.result.truncated_examples}


def run_table_training(
    *, dataset: StoredDataset, ledger: PrivacyLedger, config: TrainConfig, settings: TableSettings, model: Any,
    tokenizer: Any, base: BaseModelSignature, run_id: str | None = None, progress: bool = True,
    on_step: Callable[[StepInfo], None] | None = None, on_pass: Callable[[], None] | None = None,
) -> TableRun:
    """Train a DP table adapter on the dataset's training rows.

    Raises:
        TableNeighboursError: private neighbours asked for a DP run.
        PrivacyBudgetExceededError: the run (pool and training together) does not fit; nothing spent.
        TrainingConfigError: ``max_length`` would cut more than 2% of the examples.
    """
    schema = dataset.schema
    if schema is None:
        raise DatasetValidationError(f"dataset {dataset.dataset_id} is not a table", detail={"dataset_id": dataset.dataset_id})
    run_id = run_id or uuid.uuid4().hex
    rows = dataset.train_rows
    source = settings.neighbour_source
    if source is NeighbourSource.AUTO:
        source = NeighbourSource.REFERENCE if config.private else NeighbourSource.PRIVATE
    if config.private and source is NeighbourSource.PRIVATE:
        raise TableNeighboursError(
            "a DP table run cannot show private rows as examples: one row would sit in many examples and DP-SGD "
            "bounds one example, not one row. Use neighbour_source 'reference' (or epsilon inf).")
    rng = random.Random(settings.seed)
    if config.max_physical_batch is None:  # k + 1 rows an example: long sequences, chunked batches
        config = config.model_copy(update={"max_physical_batch": physical_batch_for(config.max_length)})
    delta = config.delta_for(len(rows))
    template = GenerationTemplate.for_table(dataset.task, schema)
    _check_length(tokenizer, template, rows, schema, settings, max_length=config.max_length)
    pooled = source in (NeighbourSource.REFERENCE, NeighbourSource.MARGINALS) and settings.neighbours > 0
    if pooled and not config.private:
        raise TrainingConfigError("the reference pool is what makes table examples DP; a non-private run (epsilon "
                                  "inf) shows the private neighbours (neighbour_source 'private' or 'auto')")
    if not pooled:
        examples = _examples(rows, rows, schema, settings, rng, private_pool=True)
        result = train_charged(dataset_id=dataset.dataset_id, records=examples.records, template=template,
                               ledger=ledger, config=config, model=model, tokenizer=tokenizer, run_id=run_id,
                               progress=progress, on_step=on_step, on_pass=on_pass)
        adapter = export_adapter(result, base=base, template=template)
        return TableRun(run_id, adapter, result, template, examples, None, ledger.status(dataset.dataset_id),
                        _label_rows(rows, schema, None, private=config.private))
    # one ledger run: the pool's release charged first, DP-SGD calibrated so that both compose (RDP) to epsilon
    share = settings.reference_share
    plan = plan_pool(schema, epsilon=config.epsilon * share, delta=delta * share,
                     marginals=settings.marginals if source is NeighbourSource.MARGINALS else None)
    pool: ReferencePool | None = None
    examples: ExampleSet | None = None

    def examples_from_pool() -> list[Record]:  # called once the release is charged
        nonlocal pool, examples
        pool = make_pool(plan, rows, schema, factor=settings.reference_factor,
                         rng=np.random.default_rng(settings.seed), run_id=run_id)
        examples = _examples(rows, pool.rows, schema, settings, rng, private_pool=False)
        return examples.records

    result = train_charged(dataset_id=dataset.dataset_id, records=examples_from_pool, n_records=len(rows),
                           template=template, ledger=ledger, config=config, model=model, tokenizer=tokenizer,
                           run_id=run_id, progress=progress, on_step=on_step, on_pass=on_pass, prior=plan.history,
                           releases=[plan.mechanism])
    assert pool is not None and examples is not None
    adapter = export_adapter(result, base=base, template=template)
    return TableRun(run_id, adapter, result, template, examples, pool, ledger.status(dataset.dataset_id),
                    _label_rows(rows, schema, pool, private=config.private),
                    pool.sample(settings.example_rows, seed=settings.seed) if settings.example_rows else None)


def _examples(targets: list[Row], pool: list[Row], schema: TableSchema, settings: TableSettings, rng: random.Random, *,
              private_pool: bool) -> ExampleSet:
    """HARMONIC's examples: the private rows' own neighbours (``private_pool``: non-private runs, with the
    label-consistency filter), or the k nearest reference rows of each row's label (one example per row)."""
    examples = table_examples(targets, pool, schema, k=settings.neighbours, rng=rng, pool_is_targets=private_pool,
                              same_label=not private_pool, label_consistency=settings.label_consistency and private_pool,
                              empty_share=settings.empty_share)
    if not examples.records:
        raise DatasetValidationError("no training example is left after the label-consistency filter",
                                     detail={"dropped": examples.dropped_inconsistent})
    return examples


def _label_rows(rows: list[Row], schema: TableSchema, pool: ReferencePool | None, *,
                private: bool) -> dict[str, float] | None:
    """Rows per label that may leave the client with this run's adapter: the DP reference pool's estimates
    under DP (post-processing of its release); the exact counts in a non-private run (epsilon inf, whose
    adapter is not private either); none for a DP run without a pool or a table without a label."""
    if schema.label is None:
        return None
    if pool is not None:
        return pool.rows_estimate
    if private:
        return None
    counts = Counter(row[schema.label] for row in rows)
    return {label: float(counts.get(label, 0)) for label in schema.labels}


def _check_length(tokenizer: Any, template: GenerationTemplate, rows: list[Row], schema: TableSchema,
                  settings: TableSettings, *, max_length: int) -> None:
    """Refuse, before anything is spent, a ``max_length`` that would cut many examples: measured on
    examples with private neighbours, which are never trained on here."""
    sample = rows[:200]
    trial = table_examples(sample, sample, schema, k=settings.neighbours, rng=random.Random(0), pool_is_targets=True,
                           label_consistency=False, empty_share=0.0)
    _, truncated = tokenize_examples(tokenizer, template, trial.records, max_length=max_length)
    if truncated > MAX_TRUNCATED_SHARE * len(trial.records):
        raise TrainingConfigError(
            f"max_length {max_length} would cut {truncated} of {len(trial.records)} table examples (the row to learn "
            "is at the end); raise max_length or show fewer neighbours",
            detail={"truncated": truncated, "examples": len(trial.records), "max_length": max_length})
