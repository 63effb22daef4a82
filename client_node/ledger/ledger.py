"""The privacy budget ledger: refuses runs that would overspend, charges every step before it is taken.

Spending composes across runs two ways, both sound upper bounds, and the tighter one counts:
- basic composition: epsilons add up and deltas add up;
- RDP composition: all runs' Gaussian releases (DP-SGD's subsampled steps, Gaussian vote aggregation
  and statistics, which enter as sample rate 1) composed by one RDP accountant, read at what is left of
  the budget's delta, plus the pure epsilons of Laplace runs by basic composition (usually much tighter
  than basic alone when many runs share a dataset).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from client_node.ledger.tables import BudgetRow, SpendRow
from shared.errors import DatasetNotFoundError, PrivacyBudgetExceededError, RunNotFoundError
from shared.privacy import Accountant, Mechanism
from shared.training.accounting import HistoryEntry, compose_histories, epsilon_of_history


@dataclass(frozen=True)
class Spend:
    """One run's spending as the ledger composes it."""

    epsilon: float
    delta: float
    history: list[HistoryEntry] | None  # None: not a Gaussian; composed by its (epsilon, delta) alone


@dataclass(frozen=True)
class BudgetStatus:
    """A dataset's budget and what its runs have spent."""

    dataset_id: str
    epsilon_budget: float
    delta_budget: float
    basic_epsilon: float
    basic_delta: float
    rdp_epsilon: float
    runs: int

    @property
    def epsilon_spent(self) -> float:
        """The tightest sound epsilon at the budget's delta (basic only counts if its delta fits)."""
        basic = self.basic_epsilon if self.basic_delta <= self.delta_budget else math.inf
        return min(basic, self.rdp_epsilon)

    @property
    def epsilon_remaining(self) -> float:
        return max(0.0, self.epsilon_budget - self.epsilon_spent)

    def as_dict(self) -> dict[str, object]:
        return {"composition": "RDP (opacus' RDP accountant) across runs, or basic if tighter; a run's certificate "
                               "may use another accountant", "dataset_id": self.dataset_id, "epsilon_budget": self.epsilon_budget, "delta_budget": self.delta_budget,
                "epsilon_spent": self.epsilon_spent, "epsilon_remaining": self.epsilon_remaining,
                "basic_composition": {"epsilon": self.basic_epsilon, "delta": self.basic_delta},
                "rdp_composition": {"epsilon": self.rdp_epsilon, "delta": self.delta_budget}, "runs": self.runs}


def compose(spends: Sequence[Spend], *, delta_budget: float) -> tuple[float, float, float]:
    """(basic epsilon, basic delta, RDP epsilon at ``delta_budget``) of several runs together.

    The RDP figure composes every spend with a history in one accountant and adds the others by basic
    composition: their epsilons add, and their deltas come out of the budget's delta first.
    """
    basic_epsilon = math.fsum(s.epsilon for s in spends)
    basic_delta = math.fsum(s.delta for s in spends)
    others = [s for s in spends if s.history is None]
    delta_left = delta_budget - math.fsum(s.delta for s in others)
    histories = compose_histories(s.history or [] for s in spends if s.history is not None)
    if any(math.isinf(s.epsilon) for s in others) or (histories and delta_left <= 0) or delta_left < 0:
        rdp = math.inf
    else:
        gaussian = epsilon_of_history(histories, delta=delta_left, accountant=Accountant.RDP) if histories else 0.0
        rdp = math.fsum(s.epsilon for s in others) + gaussian
    return basic_epsilon, basic_delta, rdp


class PrivacyLedger:
    """Budgets and spending per dataset, in the client's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set_budget(self, dataset_id: str, *, epsilon: float, delta: float) -> BudgetStatus:
        """Create or change a dataset's total budget (never below what is already spent)."""
        if not (epsilon > 0 and 0 <= delta < 1):
            raise ValueError(f"budget needs epsilon > 0 and 0 <= delta < 1, got ({epsilon}, {delta})")
        with Session(self.engine) as session, session.begin():
            # checked inside the transaction, before anything is written: a refused budget leaves the old one
            spends = [_spend(r) for r in session.scalars(select(SpendRow).where(SpendRow.dataset_id == dataset_id))]
            status = BudgetStatus(dataset_id, epsilon, delta, *compose(spends, delta_budget=delta), len(spends))
            if status.epsilon_spent > epsilon:
                raise PrivacyBudgetExceededError(
                    f"dataset {dataset_id} has already spent epsilon {status.epsilon_spent:.3f}; the budget cannot "
                    "go below it", detail=status.as_dict())
            row = session.get(BudgetRow, dataset_id)
            if row is None:
                session.add(BudgetRow(dataset_id=dataset_id, epsilon=epsilon, delta=delta))
            else:
                row.epsilon, row.delta = epsilon, delta
        return status

    def status(self, dataset_id: str) -> BudgetStatus:
        """Budget and composed spending of a dataset.

        Raises:
            DatasetNotFoundError: the dataset has no budget in this ledger.
        """
        with Session(self.engine) as session:
            budget = session.get(BudgetRow, dataset_id)
            if budget is None:
                raise DatasetNotFoundError(f"dataset {dataset_id!r} has no privacy budget", detail={"dataset_id": dataset_id})
            spends = [_spend(row) for row in session.scalars(select(SpendRow).where(SpendRow.dataset_id == dataset_id))]
            basic_eps, basic_delta, rdp = compose(spends, delta_budget=budget.delta)
            return BudgetStatus(dataset_id, budget.epsilon, budget.delta, basic_eps, basic_delta, rdp, len(spends))

    def open_run(
        self,
        dataset_id: str,
        *,
        run_id: str,
        planned_epsilon: float,
        delta: float,
        planned_history: list[HistoryEntry] | None,
        accountant: str,
        mechanism: str,
    ) -> BudgetStatus:
        """Admit a run if its planned spend fits the remaining budget; otherwise raise and change nothing.

        Raises:
            PrivacyBudgetExceededError: composed with earlier runs, the plan would exceed the budget.
        """
        with Session(self.engine) as session, session.begin():
            _refuse_unless_fits(session, dataset_id, [Spend(planned_epsilon, delta, planned_history)])
            session.add(SpendRow(run_id=run_id, dataset_id=dataset_id, status="running", mechanism=mechanism,
                                 accountant=accountant, delta=delta, epsilon=0.0 if planned_history is not None else planned_epsilon,
                                 planned_epsilon=planned_epsilon, steps=0, history=[],
                                 planned_history=[list(h) for h in planned_history] if planned_history is not None else None))
        return self.status(dataset_id)

    def check_plan(self, dataset_id: str, planned: Sequence[Spend]) -> None:
        """Raise, as ``open_run`` would, unless all of ``planned`` (runs still to open) fit together; for
        a run made of several ledger runs, checked before the first spends anything."""
        with Session(self.engine) as session:
            _refuse_unless_fits(session, dataset_id, planned)

    def charge(self, run_id: str, history: list[HistoryEntry]) -> float:
        """Record a run's accountant history so far (call before each step); returns its epsilon."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, run_id)
            row.history = [list(h) for h in history]
            row.steps = sum(int(h[2]) for h in history)
            row.epsilon = epsilon_of_history(history, delta=row.delta, accountant=Accountant.RDP) if history else 0.0
            return row.epsilon

    def charge_pure(self, run_id: str, *, epsilon: float, steps: int) -> float:
        """Record a pure-epsilon run's spend so far (Laplace releases; call before each release)."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, run_id)
            row.epsilon, row.steps = epsilon, steps
            return row.epsilon

    def finish(self, run_id: str, *, history: list[HistoryEntry] | None, epsilon: float) -> None:
        """Close a run with its final spend (epsilon from the run's own accountant)."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, run_id)
            if history is not None:
                row.history = [list(h) for h in history]
                row.steps = sum(int(h[2]) for h in history)
            row.epsilon = epsilon
            row.status = "finished"

    def fail(self, run_id: str, *, note: str = "") -> None:
        """Close a crashed run; it stays charged with everything recorded before the crash."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, run_id)
            row.status = "failed"
            row.note = note[:500]

    def fail_interrupted(self, only: Callable[[str], bool] = lambda _: True) -> list[str]:
        """Mark runs left ``running`` by a killed process as failed (call at start-up, with ``only`` saying
        which may be closed: not those of work still alive elsewhere); returns their ids.

        They stay charged with the history recorded before their last step, which was written first.
        """
        with Session(self.engine) as session, session.begin():
            rows = [row for row in session.scalars(select(SpendRow).where(SpendRow.status == "running"))
                    if only(row.run_id)]
            for row in rows:
                row.status = "failed"
                row.note = "interrupted: the process stopped while the run was in progress"
            return [row.run_id for row in rows]

    def close_interrupted(self, run_id: str) -> list[str]:
        """Close the ledger runs of one interrupted client run (``run_id`` and its parts, ``run_id.<part>``)
        still open: charged what they recorded, the rest of their reservation freed."""
        return self.fail_interrupted(only=lambda spend_id: spend_id == run_id or spend_id.startswith(f"{run_id}."))

    def runs(self, dataset_id: str) -> list[dict[str, object]]:
        with Session(self.engine) as session:
            rows = session.scalars(select(SpendRow).where(SpendRow.dataset_id == dataset_id).order_by(SpendRow.created_at))
            return [{"run_id": r.run_id, "status": r.status, "mechanism": r.mechanism, "accountant": r.accountant,
                     "epsilon": r.epsilon, "delta": r.delta, "steps": r.steps, "history": r.history} for r in rows]

    @staticmethod
    def _row(session: Session, run_id: str) -> SpendRow:
        row = session.get(SpendRow, run_id)
        if row is None:
            raise RunNotFoundError(f"no ledger run {run_id!r}", detail={"run_id": run_id})
        return row


def _refuse_unless_fits(session: Session, dataset_id: str, planned: Sequence[Spend]) -> None:
    budget = session.get(BudgetRow, dataset_id)
    if budget is None:
        raise DatasetNotFoundError(f"dataset {dataset_id!r} has no privacy budget", detail={"dataset_id": dataset_id})
    spends = [_spend(row) for row in session.scalars(select(SpendRow).where(SpendRow.dataset_id == dataset_id))]
    after = compose([*spends, *planned], delta_budget=budget.delta)
    basic_fits = after[0] <= budget.epsilon and after[1] <= budget.delta
    rdp_fits = after[2] <= budget.epsilon
    if not (basic_fits or rdp_fits):
        before = compose(spends, delta_budget=budget.delta)
        spent = min(before[0] if before[1] <= budget.delta else math.inf, before[2])
        requested = sum(p.epsilon for p in planned)
        raise PrivacyBudgetExceededError(
            f"run needs epsilon {requested:.3f} but dataset {dataset_id} has {max(0.0, budget.epsilon - spent):.3f} "
            f"of {budget.epsilon:.3f} left; lower the run's epsilon or raise the dataset's budget",
            detail={"requested_epsilon": requested, "spent_epsilon": spent, "budget_epsilon": budget.epsilon,
                    "budget_delta": budget.delta, "composed_after": {"basic": after[0], "rdp": after[2]}},
        )


def _spend(row: SpendRow) -> Spend:
    if row.mechanism == "none":
        return Spend(math.inf, 0.0, None)
    if row.status == "running":  # reserved at the plan until it closes
        planned = None if row.planned_history is None else [(float(s), float(q), int(n)) for s, q, n in row.planned_history]
        return Spend(row.planned_epsilon, row.delta, planned)
    mechanism = Mechanism(row.mechanism)
    if mechanism is Mechanism.DP_SGD or (mechanism.composes_by_rdp and row.history):
        history = [(float(s), float(q), int(n)) for s, q, n in row.history]
        return Spend(row.epsilon, row.delta if history else 0.0, history)
    return Spend(row.epsilon, row.delta, None)
