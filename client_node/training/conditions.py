"""The noisy counts of a dataset's condition combinations: the Gaussian mechanism, one more entry in the
training run's accountant history.

Add/remove neighbours: one record moves one combination's count by 1, so the counts' L2 sensitivity is 1
and the release is the Gaussian mechanism with sigma = ``noise_multiplier``; in RDP that is opacus' entry
``(noise_multiplier, 1.0, 1)``, which the run's DP-SGD noise is then calibrated around
(``TrainPlan.prior``). The server draws each sample's condition from the released shares.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.conditions import Conditions, ConditionSpace
from shared.mechanisms.sampling import gaussian_noised
from shared.records import Record
from shared.training.accounting import HistoryEntry

# sigma 10 on counts: at 1,000 records and 2 labels a share is off by about 1 point, for rho 0.005 (about
# eps 0.35 alone at delta 1e-5, far less once composed by RDP with the training steps)
DEFAULT_CONDITION_NOISE = 10.0


@dataclass(frozen=True)
class ConditionCounts:
    """The released counts, one per combination in ``space.combinations()`` order (exact when not private)."""

    space: ConditionSpace
    counts: tuple[float, ...]
    noise_multiplier: float  # 0: exact counts of a non-private run

    @property
    def private(self) -> bool:
        return self.noise_multiplier > 0

    def history(self) -> list[HistoryEntry]:
        """The release as an opacus history entry (empty for exact counts)."""
        return condition_history(self.noise_multiplier) if self.private else []

    def shares(self) -> list[tuple[Conditions, float]]:
        """Each combination's share of the records: counts clipped at 0 and normalized (uniform when all
        are clipped). Post-processing of the release."""
        clipped = [max(0.0, c) for c in self.counts]
        total = sum(clipped)
        combos = list(self.space.combinations())
        if total <= 0:
            return [(c, 1.0 / len(combos)) for c in combos]
        return [(c, v / total) for c, v in zip(combos, clipped, strict=True)]

    def as_dict(self) -> dict[str, object]:
        return {"conditions": self.space.domains, "noise_multiplier": self.noise_multiplier,
                "counts": [{"conditions": dict(c), "count": round(v, 2)}
                           for c, v in zip(self.space.combinations(), self.counts, strict=True)],
                "shares": [{"conditions": dict(c), "share": round(s, 4)} for c, s in self.shares()]}


def condition_history(noise_multiplier: float) -> list[HistoryEntry]:
    """The release's accountant entry: a Gaussian of ``noise_multiplier`` on sensitivity 1, taken once."""
    return [(float(noise_multiplier), 1.0, 1)]


def count_conditions(records: Sequence[Record], space: ConditionSpace) -> np.ndarray:
    """Exact counts per combination (records' conditions are checked at intake; one outside is a bug)."""
    index = {combo: i for i, combo in enumerate(space.combinations())}
    counts = np.zeros(len(index))
    for record in records:
        counts[index[tuple(sorted(record.conditions))]] += 1
    return counts


def release_condition_counts(records: Sequence[Record], space: ConditionSpace, *,
                             noise_multiplier: float) -> ConditionCounts:
    """The counts with N(0, noise_multiplier^2) on each (OpenDP's exact sampler); 0: the exact counts.
    Charge ``condition_history(noise_multiplier)`` to the ledger before calling this."""
    if noise_multiplier < 0 or not math.isfinite(noise_multiplier):
        raise ValueError(f"noise multiplier must be finite and >= 0, got {noise_multiplier}")
    exact = count_conditions(records, space)
    noisy = gaussian_noised(exact, noise_multiplier) if noise_multiplier > 0 else exact
    return ConditionCounts(space, tuple(float(v) for v in noisy), noise_multiplier)
