"""The DP reference pool: DP-synthesized rows, the example rows a DP table run shows beside each private row.

With the neighbours drawn from this pool, every training example holds exactly one private row (its
target), so DP-SGD's per-example guarantee is a per-row guarantee. The pool costs one Gaussian release,
planned before any row is read (``plan_pool``: its RDP history entry) and made by ``make_pool``; the table
run charges that entry first in its own ledger run and calibrates DP-SGD around it (``TrainPlan.prior``),
so both compose in RDP into the run's epsilon. Two releases make pools:
- ``histograms``: one Gaussian release of the columns' histograms, split by label (which composes in
  parallel); columns are sampled independently within a label, so the pool knows each label's marginals
  and nothing of the joint;
- ``marginals``: AIM or MST (``client_node.tables.marginals``), whose graphical model keeps the 2-way
  structure it measured, so the examples already look like the table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from client_node.statistics.table import TableStatistics, release_table_statistics
from client_node.tables.marginals import (
    MarginalSettings,
    release_marginals,
    synthesize_rows,
)
from shared.errors import TableSchemaError
from shared.mechanisms import GaussianMechanism
from shared.privacy import Mechanism
from shared.tables.rows import Row, canonical_value
from shared.tables.schema import ColumnKind, ColumnSpec, TableSchema
from shared.training.accounting import HistoryEntry, gaussian_release_noise

UNKNOWN = "unknown"  # a categorical column whose every value stayed below the release threshold


@dataclass(frozen=True)
class PoolPlan:
    """A pool's release before any row is read: its noise as the RDP history entry the run composes with
    DP-SGD, and its (epsilon, delta) alone, the share of the run's that calibrated it."""

    history: list[HistoryEntry]
    epsilon: float
    delta: float
    marginals: MarginalSettings | None = None  # AIM or MST makes the pool; None: noisy histograms

    @property
    def mechanism(self) -> Mechanism:
        return Mechanism.MARGINALS if self.marginals is not None else Mechanism.GAUSSIAN_STATISTICS

    @property
    def noise_multiplier(self) -> float:
        return self.history[0][0]

    @property
    def rho(self) -> float:
        """The zCDP of the release (a Gaussian of this noise on sensitivity 1): what AIM or MST is given."""
        return 1.0 / (2.0 * self.noise_multiplier**2)


@dataclass(frozen=True)
class ReferencePool:
    rows: list[Row]
    rows_estimate: dict[str, float]  # rows per label as the release estimates them ("" without a label column)
    epsilon: float  # the release alone (the run's certificate composes it with DP-SGD)
    delta: float
    release: dict[str, object]  # which release made it, and its noise

    def sample(self, n: int, *, seed: int) -> list[Row]:
        """``n`` of the pool's rows (all, if it has fewer), drawn without replacement: what a job's prompts show."""
        rng = np.random.default_rng(seed)
        return [self.rows[i] for i in sorted(rng.choice(len(self.rows), size=min(n, len(self.rows)), replace=False))]

    def as_dict(self) -> dict[str, object]:
        return {"rows": len(self.rows), "epsilon": self.epsilon, "delta": self.delta,
                "rows_estimate": self.rows_estimate, **self.release}


def plan_pool(schema: TableSchema, *, epsilon: float, delta: float, marginals: MarginalSettings | None = None) -> PoolPlan:
    """The pool's noise for (``epsilon``, ``delta``) alone: histograms unless ``marginals`` are given.

    Raises:
        TableSchemaError: a column without a declared domain (its release would need a threshold, whose
            delta is no RDP history entry).
    """
    if schema.undeclared:
        raise TableSchemaError("a DP reference pool needs every column's declared domain",
                               detail={"undeclared": schema.undeclared})
    noise, certified = gaussian_release_noise(epsilon=epsilon, delta=delta)
    return PoolPlan([(noise, 1.0, 1)], certified, delta, marginals)


def make_pool(plan: PoolPlan, rows: list[Row], schema: TableSchema, *, factor: float = 10.0, max_rows: int = 20_000,
              rng: np.random.Generator, run_id: str = "") -> ReferencePool:
    """Release what ``plan`` says (no ledger: the caller charged ``plan.history`` before) and sample about
    ``factor`` reference rows per (noisily counted) private row, at most ``max_rows``."""
    if plan.marginals is not None:
        release = release_marginals(rows, schema, rho=plan.rho, epsilon=plan.epsilon, delta=plan.delta,
                                    settings=plan.marginals, run_id=run_id)
        n = max(1, min(max_rows, round(factor * max(release.rows_estimate, 1.0))))
        estimates = release.label_rows() or {"": round(release.rows_estimate, 1)}
        return ReferencePool(synthesize_rows(release, n, rng=rng), estimates, plan.epsilon, plan.delta,
                             {"source": "marginals", **release.as_dict()})
    label = schema.label
    strata = {key: [r for r in rows if r[label] == key] for key in schema.labels} if label else {"": rows}
    # the strata split the rows by a public function of each row, so the releases compose in parallel
    mechanism = GaussianMechanism.from_noise_multiplier(plan.noise_multiplier, sensitivity=math.sqrt(len(schema.features)))
    stats = {key: release_table_statistics(members, schema.features, epsilon=plan.epsilon, delta=plan.delta,
                                           mechanism=mechanism)
             for key, members in strata.items()}
    estimates = {k: max(s.rows_estimate, 1.0) for k, s in stats.items()}
    scale = min(factor, max_rows / sum(estimates.values()))
    sizes = {k: max(1, round(n * scale)) for k, n in estimates.items()}
    return ReferencePool(sample_reference_rows(stats, schema, sizes=sizes, rng=rng),
                         {k: round(s.rows_estimate, 1) for k, s in stats.items()}, plan.epsilon, plan.delta,
                         {"source": "histograms", "noise_multiplier": plan.noise_multiplier})


def sample_reference_rows(stats: Mapping[str, TableStatistics], schema: TableSchema, *, sizes: Mapping[str, int],
                          rng: np.random.Generator) -> list[Row]:
    """Rows drawn column by column from each stratum's released statistics (post-processing only):
    a category with probability proportional to its noisy count, a number uniformly within a released
    bin chosen by its noisy count. A column a stratum released nothing of borrows the other strata's."""
    out: list[Row] = []
    for key, n in sizes.items():
        for _ in range(n):
            row: Row = {schema.label: key} if schema.label else {}
            for spec in schema.features:
                row[spec.name] = _draw(spec.name, spec.kind, stats[key], stats, rng)
            out.append({name: row[name] for name in schema.names})
    return out


def _draw(name: str, kind: ColumnKind, own: TableStatistics, every: Mapping[str, TableStatistics],
          rng: np.random.Generator) -> str:
    column = own.columns[name]
    if kind is ColumnKind.CATEGORICAL:
        counts = column.counts or _merged_counts(name, every)
        if not counts:
            return UNKNOWN
        values = sorted(counts)
        weights = np.array([max(counts[v], 0.0) for v in values]) + 1e-9
        return values[int(rng.choice(len(values), p=weights / weights.sum()))]
    bins = column.bins or tuple(b for s in every.values() for b in s.columns[name].bins)
    if not bins:
        return canonical_value_of(kind, 0.0)
    weights = np.array([max(b[2], 0.0) for b in bins]) + 1e-9
    low, high, _ = bins[int(rng.choice(len(bins), p=weights / weights.sum()))]
    return canonical_value_of(kind, float(rng.uniform(low, high)))


def _merged_counts(name: str, every: Mapping[str, TableStatistics]) -> dict[str, float]:
    merged: dict[str, float] = {}
    for stats in every.values():
        for value, count in stats.columns[name].counts.items():
            merged[value] = merged.get(value, 0.0) + count
    return merged


def canonical_value_of(kind: ColumnKind, number: float) -> str:
    return canonical_value(ColumnSpec(name="x", kind=kind), round(number) if kind is ColumnKind.INTEGER else number)
