"""Train on synthetic, test on real (TSTR) for tables: logistic regression, random forest and gradient
boosting, each fit on the synthetic rows and on the real training rows, scored on real test rows by
MCC, accuracy and macro F1 (HARMONIC's machine-learning efficiency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.tables.neighbours import RowEncoder
from shared.tables.rows import Row
from shared.tables.schema import TableSchema

CLASSIFIERS = ("logistic_regression", "random_forest", "gradient_boosting")


def _classifier(name: str, seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if name == "logistic_regression":
        return LogisticRegression(max_iter=2000, random_state=seed)
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    return GradientBoostingClassifier(random_state=seed)


def scores(train: Sequence[Row], test: Sequence[Row], schema: TableSchema, *, encoder: RowEncoder,
           seed: int = 0) -> dict[str, dict[str, float]]:
    """Each classifier fit on ``train``, scored on ``test``; a one-class training set predicts its class."""
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    label = schema.label
    assert label is not None
    truth = [r[label] for r in test]
    features_test = encoder.transform(test)
    classes = sorted({r[label] for r in train})
    out = {}
    for name in CLASSIFIERS:
        if len(classes) < 2:
            predicted = [classes[0] if classes else ""] * len(test)
        else:
            model = _classifier(name, seed).fit(encoder.transform(train), [r[label] for r in train])
            predicted = list(model.predict(features_test))
        out[name] = {"mcc": float(matthews_corrcoef(truth, predicted)), "accuracy": float(accuracy_score(truth, predicted)),
                     "macro_f1": float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)), zero_division=0))}
    return out


def tstr_report(real_train: Sequence[Row], synthetic: Sequence[Row], test: Sequence[Row], schema: TableSchema, *,
                seed: int = 0) -> dict[str, Any]:
    """Synthetic-trained and real-trained scores side by side, features encoded as the real rows are."""
    if schema.label is None:
        return {"skipped": "the table has no label column"}
    if not synthetic or not test:
        return {"skipped": "no synthetic or no test rows"}
    encoder = RowEncoder(schema).fit(real_train)
    return {"synthetic": scores(synthetic, test, schema, encoder=encoder, seed=seed),
            "real": scores(real_train, test, schema, encoder=encoder, seed=seed),
            "synthetic_classes": len({r[schema.label] for r in synthetic}), "n_synthetic": len(synthetic),
            "n_real": len(real_train), "n_test": len(test)}
