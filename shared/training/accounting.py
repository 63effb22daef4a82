"""Privacy accountants by name, noise calibration, and epsilon of a (composed) step history.

A history is opacus' own format: a list of ``(noise_multiplier, sample_rate, steps)`` entries. It is
plain JSON, so the ledger stores it and re-composes runs later; accountant objects are never pickled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from shared.privacy import Accountant

if TYPE_CHECKING:
    from opacus.accountants import IAccountant

HistoryEntry = tuple[float, float, int]

# opacus' RDP orders (1.1 .. 63) and larger ones: a small epsilon at a small delta needs an order above
# log(1/delta) / epsilon (eps 0.1 at delta 1e-6: about 140), which opacus' largest, 63, cannot reach. Every
# order is a valid bound, so more orders only tighten the epsilon (equal where the best order is below 63).
RDP_ORDERS: tuple[float, ...] = (*[1 + x / 10.0 for x in range(1, 100)], *range(12, 64),
                                 64, 80, 96, 128, 160, 192, 256, 384, 512, 768, 1024, 1536, 2048, 4096)

_REGISTRY: dict[Accountant, str] = {Accountant.RDP: "rdp", Accountant.PRV: "prv", Accountant.GDP: "gdp"}


def register_accountant(name: Accountant, opacus_mechanism: str) -> None:
    """Map one of our accountant names to an opacus mechanism name.

    Raises:
        ValueError: the name is already registered.
    """
    if name in _REGISTRY:
        raise ValueError(f"accountant {name!r} is already registered")
    _REGISTRY[name] = opacus_mechanism


def create_accountant(name: Accountant | str) -> IAccountant:
    """A fresh opacus accountant for ``name`` (``rdp``, ``prv`` or ``gdp``).

    Raises:
        ValueError: unknown name, or ``none`` (a non-private run has nothing to account).
    """
    from opacus.accountants import create_accountant as opacus_create

    try:
        key = Accountant(name)
        mechanism = _REGISTRY[key]
    except (ValueError, KeyError):
        raise ValueError(f"unknown accountant {name!r}; choose one of {[a.value for a in _REGISTRY]}") from None
    return opacus_create(mechanism=mechanism)


def noise_for_target(
    *, epsilon: float, delta: float, sample_rate: float, steps: int, accountant: Accountant | str = Accountant.RDP,
    tolerance: float = 0.01, prior: Sequence[HistoryEntry] = (),
) -> float:
    """The smallest noise multiplier (to within ``tolerance`` of epsilon, opacus' default 0.01) for which
    ``steps`` steps spend <= epsilon; after ``prior`` (releases of the same run already in its history,
    e.g. a Gaussian count release) the steps and the prior together, composed by the accountant.

    Raises:
        ValueError: epsilon is not finite and positive, or the prior alone spends it.
    """
    from opacus.accountants.utils import get_noise_multiplier

    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"target epsilon must be finite and > 0, got {epsilon}")
    name = Accountant(accountant)
    if not prior:
        orders = {"alphas": list(RDP_ORDERS)} if name is Accountant.RDP else {}
        return float(get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate,
                                          steps=steps, accountant=_REGISTRY[name], epsilon_tolerance=tolerance,
                                          **orders))
    before = epsilon_of_history(prior, delta=delta, accountant=name)
    if before >= epsilon - tolerance:
        raise ValueError(f"the run's earlier releases spend eps {before:.3f} of its target {epsilon}; "
                         "nothing is left for training")

    def spent(sigma: float) -> float:
        return epsilon_of_history([*prior, (sigma, sample_rate, steps)], delta=delta, accountant=name)

    low, high = 0.0, 10.0
    while spent(high) > epsilon:  # as opacus' search: double until under, then halve the gap
        low, high = high, 2 * high
        if high > 2**20:
            raise ValueError(f"no noise multiplier meets eps {epsilon} after the prior releases")
    while epsilon - spent(high) > tolerance and high - low > 1e-9:
        middle = (low + high) / 2
        low, high = (low, middle) if spent(middle) < epsilon else (middle, high)
    return high


def gaussian_release_noise(*, epsilon: float, delta: float) -> tuple[float, float]:
    """The noise multiplier of one Gaussian release (sensitivity 1, sample rate 1, one step) that is
    (``epsilon``, ``delta``)-DP, and the epsilon it is certified at: by the RDP accountant (the ledger's,
    tightest) where its orders reach ``epsilon``; where they cannot (below about 0.001 at delta 1e-6, with the
    largest order 4096), by zCDP's conversion: noise 1/sqrt(2 rho) is rho-zCDP,
    hence (rho + 2 sqrt(rho log(1/delta)), delta)-DP (Bun and Steinke 2016).

    Raises:
        ValueError: epsilon not finite and positive, or delta not in (0, 1).
    """
    if not (math.isfinite(epsilon) and epsilon > 0 and 0 < delta < 1):
        raise ValueError(f"a Gaussian release needs a finite epsilon > 0 and 0 < delta < 1, got ({epsilon}, {delta})")
    try:
        noise = noise_for_target(epsilon=epsilon, delta=delta, sample_rate=1.0, steps=1, tolerance=1e-6)
        return noise, epsilon_of_history([(noise, 1.0, 1)], delta=delta)
    except ValueError:
        log_delta = math.log(1.0 / delta)
        rho = (math.sqrt(epsilon + log_delta) - math.sqrt(log_delta)) ** 2
        return 1.0 / math.sqrt(2.0 * rho), rho + 2.0 * math.sqrt(rho * log_delta)


def epsilon_of_history(history: Sequence[HistoryEntry], *, delta: float, accountant: Accountant | str = Accountant.RDP) -> float:
    """Epsilon at ``delta`` after all steps in ``history`` (0 for an empty history)."""
    entries = [tuple(entry) for entry in history if int(entry[2]) > 0]
    if not entries:
        return 0.0
    if Accountant(accountant) is Accountant.GDP:  # opacus' Gaussian accountant reads only the last entry
        if len({(s, q) for s, q, _ in entries}) > 1:
            raise ValueError("the gdp accountant cannot compose steps of different noise or sample rate; use rdp or prv")
        entries = [(*entries[0][:2], sum(int(n) for *_, n in entries))]
    acc = create_accountant(accountant)
    acc.history = [(float(s), float(q), int(n)) for s, q, n in entries]
    if Accountant(accountant) is Accountant.RDP:
        # opacus' orders first; the larger ones (costly for subsampled steps: a sum over alpha terms) only
        # when the best of those is the largest, i.e. the bound may still fall beyond it. Any order's bound
        # is valid, so skipping them can only lose tightness, never soundness.
        epsilon, best = acc.get_privacy_spent(delta=delta)
        if best >= max(acc.DEFAULT_ALPHAS):
            epsilon, _ = acc.get_privacy_spent(delta=delta, alphas=list(RDP_ORDERS))
        return float(epsilon)
    return float(acc.get_epsilon(delta=delta))


def compose_histories(histories: Iterable[Sequence[HistoryEntry]]) -> list[HistoryEntry]:
    """Concatenate several runs' histories: the subsampled Gaussian steps of all runs, composed."""
    out: list[HistoryEntry] = []
    for history in histories:
        out.extend((float(s), float(q), int(n)) for s, q, n in history)
    return out


def add_steps(history: Sequence[HistoryEntry], *, noise_multiplier: float, sample_rate: float, steps: int = 1) -> list[HistoryEntry]:
    """``history`` followed by ``steps`` more steps (merged into the last entry when it matches)."""
    out = [(float(s), float(q), int(n)) for s, q, n in history]
    if out and out[-1][0] == noise_multiplier and out[-1][1] == sample_rate:
        out[-1] = (out[-1][0], out[-1][1], out[-1][2] + steps)
    else:
        out.append((float(noise_multiplier), float(sample_rate), steps))
    return out
