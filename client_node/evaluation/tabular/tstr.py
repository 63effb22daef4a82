"""Train on synthetic, test on real (TSTR) for tables: logistic regression, random forest and gradient
boosting (scikit-learn's histogram boosting), each fit on the synthetic rows and on the real training rows,
scored on real test rows by ROC AUC and the positive class's F1 (the DP tabular literature's measures; the
positive class is the label's last declared value) beside MCC, accuracy and macro F1 (HARMONIC's machine-
learning efficiency). Standard errors by bootstrap over the test rows: the classifier is fixed, the test set
varies (German's 200 test rows give an AUC error of about 0.03)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from client_node.evaluation.metrics import METRICS, with_bootstrap_se
from shared.tables.neighbours import RowEncoder
from shared.tables.rows import Row
from shared.tables.schema import TableSchema

CLASSIFIERS = ("logistic_regression", "random_forest", "gradient_boosting")
__all__ = ["CLASSIFIERS", "METRICS", "scores", "tstr_report"]


def _classifier(name: str, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if name == "logistic_regression":
        return LogisticRegression(max_iter=2000, random_state=seed)
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1)
    return HistGradientBoostingClassifier(random_state=seed)


def scores(train: Sequence[Row], test: Sequence[Row], schema: TableSchema, *, encoder: RowEncoder,
           seed: int = 0, bootstrap: int = 100) -> dict[str, dict[str, Any]]:
    """Each classifier fit on ``train``, scored on ``test`` with bootstrap standard errors (``se``); a one-class
    training set predicts its class. AUC and F1 are for a binary label (else ``None``)."""
    label = schema.label
    assert label is not None
    labels = schema.labels
    positive = labels[-1] if len(labels) == 2 else None
    truth = np.array([r[label] for r in test])
    features_test = encoder.transform(test)
    classes = sorted({r[label] for r in train})
    out = {}
    for name in CLASSIFIERS:
        if len(classes) < 2:
            predicted = np.array([classes[0] if classes else ""] * len(test))
            score = np.full(len(test), 1.0 if classes and classes[0] == positive else 0.0)
        else:
            model = _classifier(name, seed).fit(encoder.transform(train), [r[label] for r in train])
            predicted = np.asarray(model.predict(features_test))
            proba = model.predict_proba(features_test)
            known = list(model.classes_)
            score = proba[:, known.index(positive)] if positive in known else np.zeros(len(test))
        out[name] = with_bootstrap_se(truth, predicted, score, positive, bootstrap=bootstrap, seed=seed)
    return out


def tstr_report(real_train: Sequence[Row], synthetic: Sequence[Row], test: Sequence[Row], schema: TableSchema, *,
                seed: int = 0, bootstrap: int = 100, real: bool = True) -> dict[str, Any]:
    """Synthetic-trained and real-trained scores side by side, features encoded as the real rows are."""
    if schema.label is None:
        return {"skipped": "the table has no label column"}
    if not synthetic or not test:
        return {"skipped": "no synthetic or no test rows"}
    encoder = RowEncoder(schema).fit(real_train)
    out = {"synthetic": scores(synthetic, test, schema, encoder=encoder, seed=seed, bootstrap=bootstrap)}
    if real:
        out["real"] = scores(real_train, test, schema, encoder=encoder, seed=seed, bootstrap=bootstrap)
    return {**out, "positive": schema.labels[-1] if len(schema.labels) == 2 else None,
            "synthetic_classes": len({r[schema.label] for r in synthetic}), "n_synthetic": len(synthetic),
            "n_real": len(real_train), "n_test": len(test)}
