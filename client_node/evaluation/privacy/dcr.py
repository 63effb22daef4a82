"""Distance to closest record (DCR) on sentence embeddings: for each synthetic text, the cosine distance to
its nearest private record. Compared with the same distance for real held-out texts (which the
generator never saw): synthetic data much closer to the private records than fresh real data is
copying them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DcrSummary:
    median: float
    p05: float
    mean: float
    share_closer_than_holdout_p05: float  # share of queries nearer than the holdout's 5th percentile
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def closest_distances(queries: Any, references: Any, *, chunk: int = 1024) -> list[float]:
    """1 - max cosine similarity of each query row to any reference row (rows L2-normalized)."""

    out: list[float] = []
    for start in range(0, int(queries.shape[0]), chunk):
        sims = queries[start : start + chunk] @ references.T
        out.extend((1.0 - sims.max(dim=1).values).clamp(min=0.0).tolist())
    return out


def summarize(distances: Sequence[float], *, holdout_p05: float | None = None) -> DcrSummary:
    import numpy as np

    if not distances:
        raise ValueError("no distances")
    values = np.asarray(distances, dtype=float)
    p05 = float(np.percentile(values, 5))
    reference = p05 if holdout_p05 is None else holdout_p05
    return DcrSummary(median=float(np.median(values)), p05=p05, mean=float(values.mean()),
                      share_closer_than_holdout_p05=float((values < reference).mean()), n=len(values))
