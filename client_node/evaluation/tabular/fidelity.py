"""Per-column fidelity: total variation distance between the category frequencies of real and synthetic
rows, and the two-sample Kolmogorov-Smirnov statistic of numeric columns (0 = same distribution)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from shared.tables.rows import Row
from shared.tables.schema import TableSchema


def total_variation(real: Sequence[str], synthetic: Sequence[str]) -> float:
    p, q = Counter(real), Counter(synthetic)
    return 0.5 * sum(abs(p[k] / len(real) - q[k] / len(synthetic)) for k in set(p) | set(q))


def fidelity_report(real: Sequence[Row], synthetic: Sequence[Row], schema: TableSchema) -> dict[str, Any]:
    from scipy.stats import ks_2samp

    if not real or not synthetic:
        return {"skipped": "no real or no synthetic rows"}
    columns: dict[str, dict[str, float | str]] = {}
    for spec in schema.columns:
        a, b = [r[spec.name] for r in real], [r[spec.name] for r in synthetic]
        if spec.kind.numeric:
            columns[spec.name] = {"metric": "ks", "value": float(ks_2samp([float(x) for x in a], [float(x) for x in b]).statistic)}
        else:
            columns[spec.name] = {"metric": "tv", "value": total_variation(a, b)}
    tv = [c["value"] for c in columns.values() if c["metric"] == "tv"]
    ks = [c["value"] for c in columns.values() if c["metric"] == "ks"]
    return {"columns": columns, "mean_tv": sum(tv) / len(tv) if tv else None,  # type: ignore[arg-type]
            "mean_ks": sum(ks) / len(ks) if ks else None}  # type: ignore[arg-type]
