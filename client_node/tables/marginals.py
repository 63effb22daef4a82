"""DP synthetic rows from marginals: AIM or MST, as OpenDP ships them (``opendp.extras.mbi``, on Private-PGM),
over the table's declared domains.

The release is zCDP with no delta: every column's categories or cut points are public, so nothing is
thresholded. Its rho goes into the ledger exactly, as one Gaussian RDP history entry (noise multiplier
1/sqrt(2 rho), sample rate 1, one step: that mechanism's RDP curve is alpha * rho, the release's), so it
composes in RDP with DP-SGD and the other releases. Neighbours are add/remove one row, as in opacus.
Rows are sampled from the fitted graphical model (post-processing) and mapped back within the public
bounds: a number uniformly within its bin, never the bin's edge.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from client_node.ledger.ledger import PrivacyLedger
from shared.errors import TableSchemaError
from shared.mechanisms import GaussianMechanism
from shared.privacy import Accountant, Mechanism
from shared.tables.rows import Row, canonical_value
from shared.tables.schema import ColumnKind, ColumnSpec, TableSchema
from shared.training.accounting import epsilon_of_history, gaussian_release_noise


class MarginalAlgorithm(StrEnum):
    AIM = "aim"  # adaptive: selects the marginals the model gets most wrong, round by round
    MST = "mst"  # a maximum spanning tree of 2-way marginals, measured once


class MarginalSettings(BaseModel):
    """How a ``marginals`` run releases and synthesizes (AIM's defaults kept in budget on 2 cores)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: MarginalAlgorithm = MarginalAlgorithm.MST
    rows: int | None = Field(None, ge=1, le=10_000_000, description="rows to synthesize (default: the noisy count)")
    oneway_split: float | None = Field(None, gt=0, lt=1, description="share of rho for the one-way marginals "
                                                                     "(OpenDP's default: half)")
    aim_degree: int = Field(2, ge=1, le=3, description="AIM: the workload's largest marginal (OpenDP's 3-way "
                                                       "default did not fit in 45 minutes on Adult, issue 21)")
    aim_rounds: int | None = Field(24, ge=1, le=10_000, description=(
        "AIM: most rounds (None: OpenDP's 16 per column, each fitting a model; on German credit at eps 8, 2-way, "
        "those 336 rounds had not finished in 15 minutes on 2 AVX512_BF16 cores beside the unit suite)"))
    aim_max_size: float = Field(20.0, gt=0, le=10_000, description="AIM: the model's largest size, MB")
    label_weight: float = Field(1.0, ge=1, le=1000, description=(
        "AIM: weight of the workload's marginals that hold the label (the analyses that matter are public: a "
        "classifier of the label needs its joint with each feature)"))


@dataclass(frozen=True)
class MarginalRelease:
    """The fitted model with what it cost."""

    table: Any  # opendp.extras.mbi.ContingencyTable
    schema: TableSchema
    cuts: dict[str, list[float]]  # the numeric cut points as released (integers as whole numbers)
    rho: float
    epsilon: float
    delta: float
    algorithm: MarginalAlgorithm
    seconds: float
    run_id: str = ""  # the ledger run that charged it

    @property
    def noise_multiplier(self) -> float:
        return noise_multiplier_of(self.rho)

    @cached_property
    def rows_estimate(self) -> float:
        """The model's total: the release's estimate of how many rows it saw (post-processing)."""
        return float(self.table.project([self.schema.columns[0].name]).sum())

    def label_rows(self) -> dict[str, float] | None:
        """Rows per label as the release estimates them (post-processing), in the label's declared order."""
        label = self.schema.label
        if label is None:
            return None
        counts = np.asarray(self.table.project([label])).ravel()
        keys = self.table.keys[label].to_list()
        return {value: round(float(counts[keys.index(value)]), 1) for value in self.schema.labels}

    def as_dict(self) -> dict[str, object]:
        return {"algorithm": self.algorithm.value, "rho": self.rho, "epsilon": self.epsilon, "delta": self.delta,
                "noise_multiplier": self.noise_multiplier, "rows_estimate": round(self.rows_estimate, 1),
                "seconds": round(self.seconds, 1)}


def noise_multiplier_of(rho: float) -> float:
    """The Gaussian noise multiplier (sensitivity 1) whose zCDP is ``rho``: rho = 1 / (2 sigma^2)."""
    return 1.0 / math.sqrt(2.0 * rho)


def rho_for(epsilon: float, delta: float) -> float:
    """The largest rho (to 1e-6 in epsilon) the ledger's RDP accountant charges at most ``epsilon`` for at
    ``delta``: one Gaussian step at sample rate 1, calibrated as DP-SGD's noise is."""
    noise, _ = gaussian_release_noise(epsilon=epsilon, delta=delta)
    return 1.0 / (2.0 * noise**2)


def charged_history(rho: float) -> list[tuple[float, float, int]]:
    """The release as the ledger records it: one Gaussian of noise multiplier 1/sqrt(2 rho), sample rate 1."""
    return GaussianMechanism.from_noise_multiplier(noise_multiplier_of(rho)).history(1)


def released_cuts(spec: ColumnSpec) -> list[float]:
    """A numeric column's cut points as the release bins it: the declared ones, or the inner edges of its equal
    bins (whole numbers for an integer column, where (c1, c2] holds the integers floor(c1)+1 .. floor(c2))."""
    edges = spec.edges()
    inner = edges[1:-1]
    if spec.kind is ColumnKind.INTEGER:
        assert spec.lower is not None and spec.upper is not None
        return sorted({float(math.floor(c)) for c in inner if spec.lower <= math.floor(c) < spec.upper})
    return list(inner)


def release_marginals(rows: Sequence[Row], schema: TableSchema, *, rho: float, epsilon: float, delta: float,
                      settings: MarginalSettings, run_id: str = "") -> MarginalRelease:
    """Fit AIM or MST to ``rows`` at zCDP ``rho`` (no ledger: ``release_charged`` charges it)."""
    if schema.undeclared:
        raise TableSchemaError(f"a marginal release needs every column's declared domain; missing for {schema.undeclared}",
                               detail={"undeclared": schema.undeclared})
    import opendp.prelude as dp
    import polars as pl

    dp.enable_features("contrib")
    keys: dict[str, list[Any]] = {}
    cuts: dict[str, list[float]] = {}
    series = []
    for spec in schema.columns:
        values = [row[spec.name] for row in rows]
        if spec.kind is ColumnKind.CATEGORICAL:
            keys[spec.name] = list(spec.categories or [])
            series.append(pl.Series(spec.name, values, dtype=pl.String))
        elif spec.kind is ColumnKind.INTEGER:
            cuts[spec.name] = released_cuts(spec)
            series.append(pl.Series(spec.name, [int(v) for v in values], dtype=pl.Int64))
        else:
            cuts[spec.name] = released_cuts(spec)
            series.append(pl.Series(spec.name, [float(v) for v in values], dtype=pl.Float64))
    opendp_cuts = {name: [int(c) for c in points] if schema.column(name).kind is ColumnKind.INTEGER else points
                   for name, points in cuts.items()}
    algorithm = _algorithm(settings, schema)
    context = dp.Context.compositor(data=pl.DataFrame(series).lazy(), privacy_unit=dp.unit_of(contributions=1),
                                    privacy_loss=dp.loss_of(rho=rho))
    started = time.perf_counter()
    with _mst_selection_headroom():
        table = context.query(rho=rho).contingency_table(keys=keys, cuts=opendp_cuts, algorithm=algorithm).release()
    return MarginalRelease(table, schema, cuts, rho, epsilon, delta, settings.algorithm, time.perf_counter() - started,
                           run_id)


def _algorithm(settings: MarginalSettings, schema: TableSchema) -> Any:
    import itertools

    import opendp.prelude as dp

    common: dict[str, Any] = {"oneway_split": settings.oneway_split} if settings.oneway_split else {}
    if settings.algorithm is MarginalAlgorithm.MST:
        return dp.mbi.MST(**common)
    queries: Any = settings.aim_degree
    if settings.label_weight != 1 and schema.label is not None:
        label = schema.label
        queries = [dp.mbi.Count(by=clique, weight=settings.label_weight if label in clique else 1.0)
                   for degree in range(1, settings.aim_degree + 1)
                   for clique in itertools.combinations(schema.names, degree)]
    return dp.mbi.AIM(queries=queries, rounds=settings.aim_rounds, max_size=settings.aim_max_size, **common)


_PATCH_LOCK = threading.Lock()


@contextmanager
def _mst_selection_headroom() -> Iterator[None]:
    """OpenDP issue 2789 (open in 0.16): MST splits its selection budget into equal parts whose rounded-up sum can
    exceed the part it was given by one ulp (``insufficient budget for query: 0.0010399999999999993 >
    0.0010399999999999988``), at any rho, so backing off the query does not help. Ask the selection for a
    billionth less: it spends less than allotted, which is sound, and the release goes through."""
    from opendp.extras.mbi import _mst

    with _PATCH_LOCK:
        original = _mst._make_mst_select

        def select(*args: Any, d_out: float, **kwargs: Any) -> Any:
            return original(*args, d_out=d_out * (1 - 1e-9), **kwargs)

        _mst._make_mst_select = select
        try:
            yield
        finally:
            _mst._make_mst_select = original


def synthesize_rows(release: MarginalRelease, n: int, *, rng: np.random.Generator) -> list[Row]:
    """``n`` rows sampled from the fitted model (post-processing), every cell within its declared domain.

    Rows are drawn i.i.d. from the model (Private-PGM's ``method="sample"``). Its default, randomized rounding
    ("round", which OpenDP's ``synthesize()`` uses), assigns each column's values within a parent group in row
    order, so columns sampled from the same parent become correlated through the row order: on German credit
    at rho 50, where the model's own (history, credit) marginal matched the data's, the rounded rows turned
    "critical account" from 81% good to 38% good, and gradient boosting trained on MST's rows scored AUC 0.51
    (0.75 with i.i.d. rows; 0.78 on the real rows).

    Private-PGM samples key indices. OpenDP adds a null key to each categorical column (for values outside
    the keys: none here, but noise gives it mass), whose rows are redrawn from the column's modelled shares
    among the declared values. A numeric index becomes a number drawn uniformly within its bin between the
    public bounds (OpenDP's own mapping puts the outer bins' values one past the cuts)."""
    model = release.table.model
    indices = model.synthetic_data(int(n), method="sample").df
    out: dict[str, list[str]] = {}
    for spec in release.schema.columns:
        column = np.asarray(indices[spec.name].to_numpy(), dtype=int)
        if spec.kind is ColumnKind.CATEGORICAL:  # OpenDP's key order, its null key among them
            out[spec.name] = _categories_of(column, release.table.keys[spec.name].to_list(), release, spec.name, rng)
        else:
            out[spec.name] = _numbers_of(column, spec, release.cuts[spec.name], rng)
    names = release.schema.names
    return [{name: out[name][i] for name in names} for i in range(len(indices))]


def _categories_of(index: np.ndarray, keys: list[str | None], release: MarginalRelease, name: str,
                   rng: np.random.Generator) -> list[str]:
    """Key indices as values; the null key's rows redrawn among the declared keys by their modelled shares."""
    declared = np.array([k is not None for k in keys])
    outside = ~declared[index]
    if outside.any():
        shares = np.where(declared, np.clip(np.asarray(release.table.project([name])).ravel(), 0, None), 0.0)
        shares = shares + declared * 1e-12
        index = index.copy()
        index[outside] = rng.choice(len(keys), size=int(outside.sum()), p=shares / shares.sum())
    return [str(keys[i]) for i in index]


def _numbers_of(index: np.ndarray, spec: ColumnSpec, cuts: list[float], rng: np.random.Generator) -> list[str]:
    assert spec.lower is not None and spec.upper is not None
    edges = [spec.lower, *cuts, spec.upper]
    index = np.clip(index, 0, len(edges) - 2)
    low, high = np.asarray(edges[:-1])[index], np.asarray(edges[1:])[index]
    if spec.kind is ColumnKind.INTEGER:  # [lower, c1] then (c, c'] in whole numbers
        first = np.where(index == 0, np.ceil(low), np.floor(low) + 1)
        numbers = rng.integers(first.astype(np.int64), np.floor(high).astype(np.int64) + 1)
    else:
        numbers = rng.uniform(low, high)
    return [canonical_value(spec, x) for x in numbers.tolist()]


@dataclass(frozen=True)
class MarginalRun:
    rows: list[Row]
    release: MarginalRelease

    def as_dict(self) -> dict[str, object]:
        return {"rows": len(self.rows), "release": self.release.as_dict(), "ledger_run": self.release.run_id,
                "label_rows": self.release.label_rows()}


def run_marginals(
    *, dataset_id: str, rows: Sequence[Row], schema: TableSchema, ledger: PrivacyLedger, epsilon: float, delta: float,
    settings: MarginalSettings, rng: np.random.Generator, run_id: str | None = None,
) -> MarginalRun:
    """Release the marginals under the dataset's budget (``release_charged``), then synthesize ``settings.rows``
    rows (default: the release's noisy count)."""
    release = release_charged(dataset_id=dataset_id, rows=rows, schema=schema, ledger=ledger, epsilon=epsilon,
                              delta=delta, settings=settings, run_id=run_id)
    n = settings.rows or max(1, round(release.rows_estimate))
    return MarginalRun(synthesize_rows(release, n, rng=rng), release)


def release_charged(
    *, dataset_id: str, rows: Sequence[Row], schema: TableSchema, ledger: PrivacyLedger, epsilon: float, delta: float,
    settings: MarginalSettings, run_id: str | None = None,
) -> MarginalRelease:
    """Release the marginals under the dataset's budget: refused, nothing released, if ``epsilon`` at ``delta``
    does not fit; charged in full before the rows are read.

    Raises:
        PrivacyBudgetExceededError: the release does not fit what is left.
        TableSchemaError: a column without a declared domain.
    """
    run_id = run_id or uuid.uuid4().hex
    rho = rho_for(epsilon, delta)
    history = charged_history(rho)
    planned = epsilon_of_history(history, delta=delta)
    ledger.open_run(dataset_id, run_id=run_id, planned_epsilon=planned, delta=delta, planned_history=history,
                    accountant=Accountant.RDP.value, mechanism=Mechanism.MARGINALS.value)
    ledger.charge(run_id, history)  # before the data is read: a crash or a kill leaves the run charged in full
    try:
        release = release_marginals(rows, schema, rho=rho, epsilon=planned, delta=delta, settings=settings,
                                    run_id=run_id)
    except BaseException as exc:
        ledger.fail(run_id, note=f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish(run_id, history=history, epsilon=planned)
    return release
