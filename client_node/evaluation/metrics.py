"""Classifier metrics on a fixed test set, and their standard errors by bootstrap over its rows (the
classifier stays fixed; the test rows are resampled): TSTR for text and for tables reports the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

METRICS = ("auc", "f1", "accuracy", "macro_f1", "mcc")


def classification_metrics(truth: np.ndarray, predicted: np.ndarray, score: np.ndarray,
                           positive: str | None) -> dict[str, Any]:
    """AUC of ``score`` and F1 of ``positive`` for a binary truth (else None), accuracy, macro-F1, MCC."""
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, roc_auc_score

    two = positive is not None and len(set(truth.tolist())) == 2
    return {"auc": float(roc_auc_score(truth == positive, score)) if two else None,
            "f1": float(f1_score(truth == positive, predicted == positive, zero_division=0)) if two else None,
            "accuracy": float(accuracy_score(truth, predicted)),
            "macro_f1": float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth.tolist())),
                                       zero_division=0)),
            "mcc": float(matthews_corrcoef(truth, predicted))}


def with_bootstrap_se(truth: np.ndarray, predicted: np.ndarray, score: np.ndarray, positive: str | None, *,
                      bootstrap: int, seed: int = 0) -> dict[str, Any]:
    """The metrics, and ``se``: each metric's standard deviation over ``bootstrap`` resamples of the test rows."""
    point = classification_metrics(truth, predicted, score, positive)
    if bootstrap < 2:
        return {**point, "se": {m: None for m in METRICS}}
    resamples = np.random.default_rng(seed).integers(0, len(truth), size=(bootstrap, len(truth)))
    spread = [classification_metrics(truth[i], predicted[i], score[i], positive) for i in resamples]
    return {**point, "se": {m: _se([s[m] for s in spread]) for m in METRICS}}


def _se(values: list[Any]) -> float | None:
    numbers = [v for v in values if v is not None]
    return round(float(np.std(numbers, ddof=1)), 4) if len(numbers) > 1 else None
