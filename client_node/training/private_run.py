"""One DP training run end to end: budget check, charged training, adapter export."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from client_node.datasets.store import StoredDataset
from client_node.ledger.ledger import BudgetStatus, PrivacyLedger
from client_node.training.conditions import DEFAULT_CONDITION_NOISE, ConditionCounts, release_condition_counts
from client_node.training.export import export_adapter
from shared.errors import TrainingConfigError
from shared.mechanisms import GaussianMechanism
from shared.models.architecture import BaseModelSignature
from shared.privacy import Mechanism
from shared.prompts import GenerationTemplate, record_format_of
from shared.records import Record
from shared.training.accounting import HistoryEntry
from shared.training.config import TrainConfig
from shared.training.engine import PrivateLoraTrainer, StepInfo, TrainResult


@dataclass
class PrivateRun:
    """A finished run: its id, the adapter bytes, the training result and the dataset's budget after it."""

    run_id: str
    adapter: bytes
    result: TrainResult
    template: GenerationTemplate
    budget: BudgetStatus
    condition_counts: ConditionCounts | None = None  # released in the same ledger run, before training


def run_private_training(
    *,
    dataset: StoredDataset,
    ledger: PrivacyLedger,
    config: TrainConfig,
    model: Any,
    tokenizer: Any,
    base: BaseModelSignature,
    run_id: str | None = None,
    progress: bool = True,
    on_step: Callable[[StepInfo], None] | None = None,
    on_pass: Callable[[], None] | None = None,
    condition_noise: float = DEFAULT_CONDITION_NOISE,
) -> PrivateRun:
    """Train on the dataset's training split under the ledger, and export the DP adapter.

    The run is refused before any training if its planned spend does not fit the dataset's budget;
    every step is charged before it is taken; a crash leaves the run charged with what it spent. A dataset
    with declared conditions first releases its condition counts (Gaussian, ``condition_noise``) in the
    same ledger run; DP-SGD's noise is calibrated so that both together meet the run's epsilon, and the
    certificate covers both.

    Raises:
        PrivacyBudgetExceededError: the plan does not fit; nothing was trained or charged.
    """
    run_id = run_id or uuid.uuid4().hex
    space = dataset.conditions
    template = GenerationTemplate.for_task(dataset.task, record_format=record_format_of(dataset.records),
                                           conditions=space)
    records = dataset.train_records
    mechanism = GaussianMechanism.from_noise_multiplier(condition_noise) if space and config.private else None
    counts: ConditionCounts | None = None

    def release() -> None:
        nonlocal counts
        if space is not None:
            counts = release_condition_counts(records, space, mechanism)

    result = train_charged(dataset_id=dataset.dataset_id, records=records, template=template,
                           ledger=ledger, config=config, model=model, tokenizer=tokenizer, run_id=run_id,
                           progress=progress, on_step=on_step, on_pass=on_pass,
                           prior=mechanism.history(1) if mechanism else [],
                           releases=[Mechanism.CONDITION_COUNTS] if mechanism else [], before_training=release)
    adapter = export_adapter(result, base=base, template=template)
    return PrivateRun(run_id, adapter, result, template, ledger.status(dataset.dataset_id), counts)


def train_charged(
    *, dataset_id: str, records: Sequence[Record] | Callable[[], Sequence[Record]], template: GenerationTemplate,
    ledger: PrivacyLedger, config: TrainConfig, model: Any, tokenizer: Any, run_id: str, progress: bool = True,
    on_step: Callable[[StepInfo], None] | None = None, on_pass: Callable[[], None] | None = None,
    prior: Sequence[HistoryEntry] = (), releases: Sequence[Mechanism] = (),
    before_training: Callable[[], None] | None = None, n_records: int | None = None,
) -> TrainResult:
    """Train on ``records`` (each one DP unit) under the ledger: admitted before any step if the plan fits,
    each step charged before it is taken, the run failed (charged with what it spent) if training fails.
    ``prior``: the run's releases before training (``releases`` names them in the certificate), charged
    before ``before_training`` makes them; the training noise is calibrated for both together. ``records``
    may be a function called after that, when the examples show what the releases made; the plan is then
    for ``n_records`` of them, and a different number fails the run.

    Raises:
        PrivacyBudgetExceededError: the plan does not fit; nothing was charged.
        TrainingConfigError: the records made are not the ``n_records`` planned for (charged the prior).
    """
    trainer = PrivateLoraTrainer(
        config=config, progress=progress,
        before_step=lambda history: ledger.charge(run_id, history),
        on_step=on_step, on_pass=on_pass,
    )
    if callable(records) and n_records is None:
        raise ValueError("records made later need n_records to plan for")
    plan = trainer.plan(n_records if callable(records) else len(records), prior=prior)
    ledger.open_run(
        dataset_id, run_id=run_id, planned_epsilon=plan.epsilon, delta=plan.delta,
        planned_history=plan.history() if plan.private else None,
        accountant=config.accountant.value if plan.private else "none",
        mechanism=Mechanism.DP_SGD.value if plan.private else Mechanism.NONE.value,
    )
    try:
        if plan.prior:
            ledger.charge(run_id, list(plan.prior))
        if before_training is not None:
            before_training()
        examples = list(records() if callable(records) else records)
        if len(examples) != plan.n_records:
            raise TrainingConfigError(f"{len(examples)} training examples were made; the run was planned for "
                                      f"{plan.n_records}", detail={"made": len(examples), "planned": plan.n_records})
        result = trainer.train(model=model, tokenizer=tokenizer, records=examples, template=template, plan=plan)
    except BaseException as exc:
        ledger.fail(run_id, note=f"{type(exc).__name__}: {exc}")
        raise
    if releases:
        result.certificate = result.certificate.model_copy(update={"releases": list(releases)})
    ledger.finish(run_id, history=result.history if plan.private else None, epsilon=result.certificate.epsilon)
    return result
