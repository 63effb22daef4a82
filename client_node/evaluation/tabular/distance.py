"""Distance to closest record (DCR) on encoded rows, and the share of synthetic rows that copy a real one.

Rows are encoded as for the kNN examples (one-hot categories, numbers standardized on the training
rows, label included) and compared by Euclidean distance. Synthetic rows nearer the training rows
than real held-out rows are (5th percentile, mean) is the signal of copying; an exact copy is a
synthetic row equal to a training row in every column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shared.tables.neighbours import RowEncoder
from shared.tables.rows import Row, row_json
from shared.tables.schema import TableSchema


def closest(queries: Sequence[Row], references: Sequence[Row], encoder: RowEncoder) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=1).fit(encoder.transform(references))
    distances, _ = index.kneighbors(encoder.transform(queries))
    return distances[:, 0]


def dcr_report(synthetic: Sequence[Row], train: Sequence[Row], holdout: Sequence[Row], schema: TableSchema) -> dict[str, Any]:
    """DCR (5th percentile, median, mean) of synthetic->train and holdout->train, and exact copies."""
    if not synthetic or not train:
        return {"skipped": "no synthetic or no training rows"}
    encoder = RowEncoder(schema, include_label=True).fit(train)

    def summary(values: np.ndarray) -> dict[str, float]:
        return {"p05": float(np.percentile(values, 5)), "median": float(np.median(values)), "mean": float(values.mean()),
                "n": len(values)}

    out: dict[str, Any] = {"synthetic": summary(closest(synthetic, train, encoder))}
    if holdout:
        out["holdout"] = summary(closest(holdout, train, encoder))
    real = {row_json(r, schema.names) for r in train}
    copies = sum(row_json(r, schema.names) in real for r in synthetic)
    out["copies"] = {"count": copies, "share": copies / len(synthetic)}
    return out
