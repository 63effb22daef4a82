"""The DP reference pool: DP-synthesized rows, the example rows a DP table run shows beside each private row.

With the neighbours drawn from this pool, every training example holds exactly one private row (its
target), so DP-SGD's per-example guarantee is a per-row guarantee; the pool itself costs one release,
charged to the ledger before training. Two releases make pools:
- ``histograms``: one Gaussian release of the columns' histograms, split by label (which composes in
  parallel); columns are sampled independently within a label, so the pool knows each label's marginals
  and nothing of the joint;
- ``marginals``: AIM or MST (``client_node.tables.marginals``), whose graphical model keeps the 2-way
  structure it measured, so the examples already look like the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from client_node.ledger.ledger import PrivacyLedger
from client_node.statistics.table import TableStatistics, run_stratified_statistics
from client_node.tables.marginals import MarginalSettings, release_charged, synthesize_rows
from shared.tables.rows import Row, canonical_value
from shared.tables.schema import ColumnKind, ColumnSpec, TableSchema

UNKNOWN = "unknown"  # a categorical column whose every value stayed below the release threshold


@dataclass(frozen=True)
class ReferencePool:
    rows: list[Row]
    rows_estimate: dict[str, float]  # rows per label as the release estimates them ("" without a label column)
    epsilon: float
    delta: float
    run_id: str
    release: dict[str, object]  # which release made it, and its noise

    def sample(self, n: int, *, seed: int) -> list[Row]:
        """``n`` of the pool's rows (all, if it has fewer), drawn without replacement: what a job's prompts show."""
        rng = np.random.default_rng(seed)
        return [self.rows[i] for i in sorted(rng.choice(len(self.rows), size=min(n, len(self.rows)), replace=False))]

    def as_dict(self) -> dict[str, object]:
        return {"rows": len(self.rows), "epsilon": self.epsilon, "delta": self.delta, "ledger_run": self.run_id,
                "rows_estimate": self.rows_estimate, **self.release}


def build_reference_pool(
    *, dataset_id: str, rows: list[Row], schema: TableSchema, ledger: PrivacyLedger, epsilon: float, delta: float,
    factor: float = 10.0, max_rows: int = 20_000, rng: np.random.Generator, run_id: str | None = None,
) -> ReferencePool:
    """Release the per-label statistics under the ledger and sample about ``factor`` reference rows per
    (noisily counted) private row, at most ``max_rows``."""
    run_id = run_id or uuid.uuid4().hex
    label = schema.label
    strata = {key: [r for r in rows if r[label] == key] for key in schema.labels} if label else {"": rows}
    stats = run_stratified_statistics(dataset_id=dataset_id, strata=strata, schema=schema.features, ledger=ledger,
                                      epsilon=epsilon, delta=delta, run_id=run_id)
    estimates = {k: max(s.rows_estimate, 1.0) for k, s in stats.items()}
    scale = min(factor, max_rows / sum(estimates.values()))
    sizes = {k: max(1, round(n * scale)) for k, n in estimates.items()}
    sampled = sample_reference_rows(stats, schema, sizes=sizes, rng=rng)
    first = next(iter(stats.values()))
    return ReferencePool(sampled, {k: round(s.rows_estimate, 1) for k, s in stats.items()}, first.epsilon, delta,
                         run_id, {"source": "histograms", "noise_multiplier": first.noise_multiplier})


def build_marginal_pool(
    *, dataset_id: str, rows: list[Row], schema: TableSchema, ledger: PrivacyLedger, epsilon: float, delta: float,
    settings: MarginalSettings, factor: float = 10.0, max_rows: int = 20_000, rng: np.random.Generator,
    run_id: str | None = None,
) -> ReferencePool:
    """Release AIM or MST under the ledger and sample about ``factor`` reference rows per (noisily counted)
    private row, at most ``max_rows``; the label shares come from the same release."""
    release = release_charged(dataset_id=dataset_id, rows=rows, schema=schema, ledger=ledger, epsilon=epsilon,
                              delta=delta, settings=settings, run_id=run_id or uuid.uuid4().hex)
    n = max(1, min(max_rows, round(factor * max(release.rows_estimate, 1.0))))
    estimates = release.label_rows() or {"": round(release.rows_estimate, 1)}
    return ReferencePool(synthesize_rows(release, n, rng=rng), estimates, release.epsilon, delta, release.run_id,
                         {"source": "marginals", **release.as_dict()})


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
