"""Train on synthetic, test on real (TSTR): a TF-IDF (1-2 grams) + logistic regression classifier fit on
labelled synthetic texts and scored on real held-out texts, beside the same classifier fit on real ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ClassifierScores:
    accuracy: float
    macro_f1: float
    n_train: int
    n_test: int
    auc: float | None = None  # binary tasks: ROC AUC of the classifier's scores (signal that accuracy at the 0.5 cut can hide)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classifier_scores(
    train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str], test_labels: Sequence[str], *,
    seed: int = 0,
) -> ClassifierScores:
    """Fit on (train_texts, train_labels), score on the test set. With one label only (or no data) in
    training, the classifier can only say that label: scored as such, not refused."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    if len(train_texts) != len(train_labels) or len(test_texts) != len(test_labels):
        raise ValueError("texts and labels differ in length")
    if not test_texts:
        raise ValueError("no test texts")
    classes = sorted(set(train_labels))
    auc = None
    if len(classes) < 2:
        constant = classes[0] if classes else ""
        predicted = [constant] * len(test_texts)
    else:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        features = vectorizer.fit_transform(train_texts)
        classifier = LogisticRegression(max_iter=2000, random_state=seed).fit(features, list(train_labels))
        test_features = vectorizer.transform(test_texts)
        predicted = list(classifier.predict(test_features))
        if len(classes) == 2 and len(set(test_labels)) == 2:
            from sklearn.metrics import roc_auc_score

            truth = [label == classifier.classes_[1] for label in test_labels]
            auc = float(roc_auc_score(truth, classifier.decision_function(test_features)))
    return ClassifierScores(
        accuracy=float(accuracy_score(test_labels, predicted)),
        macro_f1=float(f1_score(test_labels, predicted, average="macro", labels=sorted(set(test_labels)), zero_division=0)),
        n_train=len(train_texts), n_test=len(test_texts), auc=auc,
    )
