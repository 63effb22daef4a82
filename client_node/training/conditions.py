"""The noisy counts of a dataset's condition combinations: the Gaussian mechanism, one more entry in the
training run's accountant history.

Add/remove neighbours: one record moves one combination's count by 1, so the counts' L2 sensitivity is 1
and the release is ``shared.mechanisms.GaussianMechanism`` once; its ``history(1)`` is the opacus entry the
run's DP-SGD noise is calibrated around (``TrainPlan.prior``). The server draws each sample's condition
from the released shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.conditions import Conditions, ConditionSpace
from shared.mechanisms import GaussianMechanism
from shared.records import Record

# sigma 10 on counts: at 1,000 records and 2 labels a share is off by about 1 point. Alone it costs eps 0.38
# at delta 1e-5 (RDP accountant); composed with DP-SGD on 1,000 records at eps 8 (batch 32, 2 epochs) it
# raises the training noise multiplier by 0.05% (both computed with shared.training.accounting)
DEFAULT_CONDITION_NOISE = 10.0


@dataclass(frozen=True)
class ConditionCounts:
    """The released counts, one per combination in ``space.combinations()`` order (exact when not private)."""

    space: ConditionSpace
    counts: tuple[float, ...]
    mechanism: GaussianMechanism | None  # None: exact counts of a non-private run

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
        return {"conditions": self.space.domains,
                "noise_multiplier": self.mechanism.noise_multiplier if self.mechanism else 0.0,
                "counts": [{"conditions": dict(c), "count": round(v, 2)}
                           for c, v in zip(self.space.combinations(), self.counts, strict=True)],
                "shares": [{"conditions": dict(c), "share": round(s, 4)} for c, s in self.shares()]}


def count_conditions(records: Sequence[Record], space: ConditionSpace) -> np.ndarray:
    """Exact counts per combination (records' conditions are checked at intake; one outside is a bug)."""
    index = {combo: i for i, combo in enumerate(space.combinations())}
    counts = np.zeros(len(index))
    for record in records:
        counts[index[tuple(sorted(record.conditions))]] += 1
    return counts


def release_condition_counts(records: Sequence[Record], space: ConditionSpace,
                             mechanism: GaussianMechanism | None) -> ConditionCounts:
    """The counts randomised by ``mechanism`` (sensitivity 1); ``None``: the exact counts. Charge
    ``mechanism.history(1)`` to the ledger before calling this."""
    exact = count_conditions(records, space)
    noisy = mechanism.randomise(exact) if mechanism is not None else exact
    return ConditionCounts(space, tuple(float(v) for v in noisy), mechanism)
