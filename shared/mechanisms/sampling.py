"""Noise from OpenDP's samplers: exact (no floating-point attack on the noise, Mironov 2012) and drawn from a
cryptographically secure RNG, so they cannot be seeded. Only the draws come from OpenDP; each mechanism
keeps its own calibration and accounting (the ledger composes by opacus' RDP accountant)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=256)
def _measurement(kind: str, scale: float) -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    metric = dp.l1_distance(T=float) if kind == "laplace" else dp.l2_distance(T=float)
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    make = dp.m.make_laplace if kind == "laplace" else dp.m.make_gaussian
    return make(domain, metric, scale=scale)


def _noised(kind: str, values: np.ndarray | float, scale: float) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError("noise is added to finite values only")
    if array.size == 0:
        return array.copy()
    return np.asarray(_measurement(kind, float(scale))(array.ravel().tolist()), dtype=np.float64).reshape(array.shape)


def laplace_noised(values: np.ndarray | float, scale: float) -> np.ndarray:
    """``values`` plus independent Laplace(``scale``) noise on every coordinate."""
    return _noised("laplace", values, scale)


def gaussian_noised(values: np.ndarray | float, sigma: float) -> np.ndarray:
    """``values`` plus independent N(0, ``sigma``^2) noise on every coordinate."""
    return _noised("gaussian", values, sigma)
