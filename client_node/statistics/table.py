"""Noisy per-column statistics of a private table, for validating generated rows without touching the
private rows again.

One Gaussian release covers every column at once: a row adds one count to one bin of each of the ``c``
columns' histograms, so the joint L2 sensitivity is sqrt(c) (add/remove neighbours).
- categorical, public categories given: noisy counts of each category (and of "other");
- categorical, categories private: noisy counts of the values seen, and only values whose noisy count
  clears a threshold are released (a value only one row has clears it with probability at most
  ``threshold_delta / c`` per column; that delta adds to the Gaussian one, Wilkins et al. 2024);
- numeric: noisy counts on a public grid (the column's public bounds cut in equal bins, or else a
  signed powers-of-two grid), and the range spans the outermost bins whose noisy count clears
  a threshold that an empty bin clears with probability at most 1/1000 across the whole grid (``EMPTY_BIN_
  CLEARS``; 3 sigma alone let one of the hundred power-of-two bins through about one release in eight):
  post-processing of the released counts.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from client_node.ledger.ledger import PrivacyLedger
from shared.mechanisms import GaussianMechanism
from shared.mechanisms.gaussian import gaussian_epsilon
from shared.privacy import Accountant, Mechanism
from shared.tables.schema import ColumnKind, ColumnSpec
from shared.training.accounting import epsilon_of_history

OTHER = "<other>"
EMPTY_BIN_CLEARS = 1e-3  # chance that any empty bin of a numeric grid clears the range threshold
_POWERS = [2.0**k for k in range(-10, 41)]


@dataclass(frozen=True)
class ColumnStatistics:
    name: str
    kind: ColumnKind
    counts: dict[str, float] = field(default_factory=dict)  # categorical: noisy count per released value
    lower: float | None = None  # numeric: noisy range
    upper: float | None = None
    bins: tuple[tuple[float, float, float], ...] = ()  # numeric: (lower, upper, noisy count) of bins above the threshold
    # (the one likeliest bin when none is)
    total: float = 0.0  # the column's noisy counts summed: an estimate of the rows (post-processing)


@dataclass(frozen=True)
class TableStatistics:
    """The released statistics and their guarantee."""

    columns: dict[str, ColumnStatistics]
    noise_multiplier: float
    sigma: float
    epsilon: float
    delta: float
    threshold_delta: float

    @property
    def rows_estimate(self) -> float:
        """The mean over columns of their noisy totals: the release's estimate of how many rows it saw."""
        return float(np.mean([c.total for c in self.columns.values()])) if self.columns else 0.0

    def history(self) -> list[tuple[float, float, int]] | None:
        """One Gaussian release as an opacus history; ``None`` when a threshold's delta rides on it (then
        the release composes by its (epsilon, delta) alone)."""
        return None if self.threshold_delta > 0 else [(self.noise_multiplier, 1.0, 1)]

    def problems(self, row: Mapping[str, Any]) -> list[str]:
        """Why ``row`` does not fit the released statistics (empty when it does)."""
        out = []
        for name, column in self.columns.items():
            if name not in row:
                out.append(f"{name}: missing")
                continue
            value = row[name]
            if column.kind is ColumnKind.CATEGORICAL:
                if str(value) not in column.counts:
                    out.append(f"{name}: {value!r} is not a released category")
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                out.append(f"{name}: {value!r} is not a number")
                continue
            if column.kind is ColumnKind.INTEGER and not float(number).is_integer():
                out.append(f"{name}: {value!r} is not an integer")
            elif column.lower is None or column.upper is None or not column.lower <= number <= column.upper:
                out.append(f"{name}: {number} is outside the released range [{column.lower}, {column.upper}]")
        return out


def numeric_edges(spec: ColumnSpec) -> list[float]:
    """The public grid of a numeric column: its cut points or equal bins between its bounds, or else signed
    powers of two."""
    if spec.lower is not None and spec.upper is not None:
        if not spec.lower < spec.upper:
            raise ValueError(f"column {spec.name}: lower bound must be below upper")
        return spec.edges()
    return [-p for p in reversed(_POWERS)] + [0.0] + _POWERS


def _bin(value: float, edges: Sequence[float]) -> int:
    """Index of the bin holding ``value``; values beyond the grid go to its outermost bins."""
    return int(min(max(np.searchsorted(edges, value, side="right") - 1, 0), len(edges) - 2))


def calibrate(schema: Sequence[ColumnSpec], *, epsilon: float, delta: float,
              threshold_delta_share: float = 0.5) -> tuple[GaussianMechanism, float]:
    """The one Gaussian release's noise (at joint sensitivity sqrt(columns)) and the delta its threshold takes."""
    if not schema:
        raise ValueError("the schema has no columns")
    thresholded = any(s.kind is ColumnKind.CATEGORICAL and not s.categories for s in schema)
    threshold_delta = delta * threshold_delta_share if thresholded else 0.0
    mechanism = GaussianMechanism.calibrated(epsilon=epsilon, delta=delta - threshold_delta,
                                             sensitivity=math.sqrt(len(schema)))
    return mechanism, threshold_delta


def release_table_statistics(
    rows: Sequence[Mapping[str, Any]], schema: Sequence[ColumnSpec], *, epsilon: float, delta: float,
    threshold_delta_share: float = 0.5, mechanism: GaussianMechanism | None = None,
) -> TableStatistics:
    """Release every column's noisy counts with one (epsilon, delta) Gaussian mechanism.

    When a categorical column has no public categories, ``threshold_delta_share`` of ``delta`` goes to
    the threshold and the rest to the Gaussian noise. ``mechanism``: the noise a caller composing the
    release in an RDP history chose (every column declared, so no threshold), instead of calibrating it.
    """
    if mechanism is None:
        mechanism, threshold_delta = calibrate(schema, epsilon=epsilon, delta=delta,
                                               threshold_delta_share=threshold_delta_share)
    elif any(s.kind is ColumnKind.CATEGORICAL and not s.categories for s in schema):
        raise ValueError("a release with a given mechanism needs every categorical column's declared categories")
    else:
        threshold_delta = 0.0
    c, sigma = len(schema), mechanism.sigma
    threshold = 1.0 + sigma * NormalDist().inv_cdf(1.0 - threshold_delta / c) if threshold_delta else math.inf
    columns: dict[str, ColumnStatistics] = {}
    for spec in schema:
        values = [row.get(spec.name) for row in rows]
        if spec.kind is ColumnKind.CATEGORICAL:
            if spec.categories:
                domain = [*spec.categories, OTHER]
                seen = Counter(str(v) if str(v) in spec.categories else OTHER for v in values)
                noisy = mechanism.randomise(np.array([seen[k] for k in domain], dtype=float))
                counts = {k: float(n) for k, n in zip(domain, noisy, strict=True) if k != OTHER}
                total = float(noisy.sum())
            else:
                seen = Counter(str(v) for v in values)
                keys = sorted(seen)
                noisy = mechanism.randomise(np.array([seen[k] for k in keys], dtype=float))
                counts = {k: float(n) for k, n in zip(keys, noisy, strict=True) if n > threshold}
                total = sum(counts.values())  # values below the threshold stay unreleased, even summed
            columns[spec.name] = ColumnStatistics(spec.name, spec.kind, counts=counts, total=total)
            continue
        edges = numeric_edges(spec)
        hist = np.zeros(len(edges) - 1)
        for v in values:
            try:
                hist[_bin(float(v), edges)] += 1
            except (TypeError, ValueError):
                continue  # a missing or non-numeric cell adds nothing
        noisy = mechanism.randomise(hist)
        above = np.flatnonzero(noisy > sigma * NormalDist().inv_cdf(1.0 - EMPTY_BIN_CLEARS / len(hist)))
        lower = upper = None
        if len(above):
            lower, upper = float(edges[above[0]]), float(edges[above[-1] + 1])
            if spec.kind is ColumnKind.INTEGER:
                lower, upper = float(math.floor(lower)), float(math.ceil(upper))
        # the bins above the threshold; none clearing it, the public bounds (or else the likeliest bin) alone
        if len(above):
            bins = tuple((float(edges[i]), float(edges[i + 1]), float(noisy[i])) for i in above)
        elif spec.lower is not None and spec.upper is not None:
            bins = ((float(spec.lower), float(spec.upper), 1.0),)
        else:
            top = int(np.argmax(noisy))
            bins = ((float(edges[top]), float(edges[top + 1]), float(noisy[top])),)
        columns[spec.name] = ColumnStatistics(spec.name, spec.kind, lower=lower, upper=upper, bins=bins,
                                              total=float(noisy[above].sum()) if len(above) else 0.0)
    certified = gaussian_epsilon(sigma=sigma, delta=delta - threshold_delta, sensitivity=math.sqrt(c))
    return TableStatistics(columns, mechanism.noise_multiplier, sigma, certified, delta, threshold_delta)


def run_table_statistics(
    *, dataset_id: str, rows: Sequence[Mapping[str, Any]], schema: Sequence[ColumnSpec], ledger: PrivacyLedger,
    epsilon: float, delta: float, run_id: str | None = None,
) -> TableStatistics:
    """Release the statistics under the dataset's budget (refused, with nothing released, if it does not fit).

    The ledger is charged with what composes soundly: the Gaussian release as an RDP history, or, when
    a threshold adds its delta, the release's exact (epsilon, delta) by basic composition.
    """
    return run_stratified_statistics(dataset_id=dataset_id, strata={"": rows}, schema=schema, ledger=ledger,
                                     epsilon=epsilon, delta=delta, run_id=run_id)[""]


def run_stratified_statistics(
    *, dataset_id: str, strata: Mapping[str, Sequence[Mapping[str, Any]]], schema: Sequence[ColumnSpec],
    ledger: PrivacyLedger, epsilon: float, delta: float, run_id: str | None = None,
) -> dict[str, TableStatistics]:
    """One release per stratum, charged once: the strata split the rows by a public function of each row
    (e.g. its label), so a row changes one stratum's release and the releases compose in parallel."""
    run_id = run_id or uuid.uuid4().hex
    mechanism, threshold_delta = calibrate(schema, epsilon=epsilon, delta=delta)
    history = None if threshold_delta else mechanism.history(1)
    planned = mechanism.epsilon_at(delta - threshold_delta) if history is None else epsilon_of_history(history, delta=delta)
    ledger.open_run(dataset_id, run_id=run_id, planned_epsilon=planned, delta=delta, planned_history=history,
                    accountant=Accountant.RDP.value, mechanism=Mechanism.GAUSSIAN_STATISTICS.value)
    try:
        released = {key: release_table_statistics(rows, schema, epsilon=epsilon, delta=delta)
                    for key, rows in strata.items()}
    except BaseException as exc:
        ledger.fail(run_id, note=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish(run_id, history=history, epsilon=planned)
    return released
