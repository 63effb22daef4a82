"""Nearest-neighbour example prompts (HARMONIC): each target row is shown with the k rows nearest to it,
found by scikit-learn over one-hot categories and standardized numbers.

Who the neighbours are decides the privacy unit. Neighbours drawn from the private rows themselves put
one private row into many examples, so example-level DP-SGD would not bound a row's influence; the
client therefore draws them from a DP reference pool when training under DP (``client_node.tables``),
and the server from rows the DP model generated.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from shared.records import Record
from shared.tables.rows import Row, row_json, shuffled
from shared.tables.schema import TableSchema


class RowEncoder:
    """Rows -> vectors: one-hot categories (those seen when fitting; others encode as zeros) and
    numbers standardized by the fitting rows' mean and deviation."""

    def __init__(self, schema: TableSchema, *, include_label: bool = False) -> None:
        self.schema = schema
        self.columns = schema.columns if include_label else schema.features
        self._categories: dict[str, dict[str, int]] = {}
        self._scale: dict[str, tuple[float, float]] = {}

    def fit(self, rows: Sequence[Row]) -> RowEncoder:
        for spec in self.columns:
            values = [r[spec.name] for r in rows]
            if spec.kind.numeric:
                numbers = np.array([float(v) for v in values], dtype=float)
                std = float(numbers.std()) if len(numbers) else 0.0
                self._scale[spec.name] = (float(numbers.mean()) if len(numbers) else 0.0, std if std > 0 else 1.0)
            else:
                self._categories[spec.name] = {v: i for i, v in enumerate(sorted(set(values)))}
        return self

    @property
    def width(self) -> int:
        return sum(len(self._categories[c.name]) if not c.kind.numeric else 1 for c in self.columns)

    def transform(self, rows: Sequence[Row]) -> np.ndarray:
        out = np.zeros((len(rows), self.width), dtype=float)
        offset = 0
        for spec in self.columns:
            if spec.kind.numeric:
                mean, std = self._scale[spec.name]
                out[:, offset] = [(float(r[spec.name]) - mean) / std for r in rows]
                offset += 1
                continue
            index = self._categories[spec.name]
            for i, r in enumerate(rows):
                j = index.get(r[spec.name])
                if j is not None:
                    out[i, offset + j] = 1.0
            offset += len(index)
        return out


def nearest(pool: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Indices of each query's ``k`` nearest pool vectors (Euclidean), nearest first."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(pool))
    if k == 0:
        return np.zeros((len(queries), 0), dtype=int)
    return NearestNeighbors(n_neighbors=k).fit(pool).kneighbors(queries, return_distance=False)


@dataclass
class ExampleSet:
    """Training examples and what building them dropped."""

    records: list[Record] = field(default_factory=list)
    dropped_inconsistent: int = 0  # the label-consistency filter
    empty: int = 0  # examples shown without neighbours (they teach the bootstrap prompt)


def table_examples(
    targets: Sequence[Row], pool: Sequence[Row], schema: TableSchema, *, k: int = 5, rng: random.Random,
    pool_is_targets: bool = False, same_label: bool = False, label_consistency: bool = True,
    empty_share: float = 0.1,
) -> ExampleSet:
    """One example per target row: its ``k`` nearest pool rows as the prompt, the row as the answer.

    Args:
        pool_is_targets: the pool is ``targets`` itself, so a row is never its own neighbour.
        same_label: neighbours only among pool rows with the target's label.
        label_consistency: drop a target whose neighbours mostly carry another label (HARMONIC's filter).
        empty_share: this share of examples (chosen at random) shows no neighbours, so the model also
            learns to write a row from the bare prompt (the server's bootstrap).
    """
    out = ExampleSet()
    if not targets:
        return out
    encoder = RowEncoder(schema).fit(list(pool) or list(targets))
    label = schema.label
    strata: dict[str | None, list[int]] = {}
    for i, row in enumerate(pool):
        strata.setdefault(row[label] if same_label and label else None, []).append(i)
    neighbours: list[list[int]] = [[] for _ in targets]
    for key, members in strata.items():
        wanted = [i for i, row in enumerate(targets) if not same_label or not label or row[label] == key]
        if not wanted or not members:
            continue
        found = nearest(encoder.transform([pool[m] for m in members]), encoder.transform([targets[i] for i in wanted]),
                        k + int(pool_is_targets))
        for i, row_found in zip(wanted, found, strict=True):
            chosen = [members[j] for j in row_found if not (pool_is_targets and members[j] == i)]
            neighbours[i] = chosen[:k]
    for i, row in enumerate(targets):
        near = [pool[j] for j in neighbours[i]]
        if label_consistency and label and near and sum(n[label] == row[label] for n in near) * 2 <= len(near):
            out.dropped_inconsistent += 1
            continue
        if rng.random() < empty_share:
            near = []
            out.empty += 1
        order = shuffled(schema.names, rng)
        near = shuffled(near, rng)
        out.records.append(Record(instruction="\n".join(row_json(n, order) for n in near),
                                  response=row_json(row, order)))
    return out
