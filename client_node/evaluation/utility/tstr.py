"""Train on synthetic, test on real (TSTR): a TF-IDF (1-2 grams) + logistic regression classifier fit on
labelled synthetic texts and scored on real held-out texts, beside the same classifier fit on real ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from client_node.evaluation.metrics import with_bootstrap_se


@dataclass(frozen=True)
class ClassifierScores:
    accuracy: float
    macro_f1: float
    n_train: int
    n_test: int
    auc: float | None = None  # binary tasks: ROC AUC of the classifier's scores (signal that accuracy at the 0.5 cut can hide)
    se: dict[str, float | None] | None = None  # bootstrap standard errors over the test texts (``bootstrap`` > 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classifier_scores(
    train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str], test_labels: Sequence[str], *,
    seed: int = 0, bootstrap: int = 0,
) -> ClassifierScores:
    """Fit on (train_texts, train_labels), score on the test set (with ``bootstrap`` resamples of it, the
    standard errors). With one label only (or no data) in training, the classifier can only say that
    label: scored as such, not refused."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if len(train_texts) != len(train_labels) or len(test_texts) != len(test_labels):
        raise ValueError("texts and labels differ in length")
    if not test_texts:
        raise ValueError("no test texts")
    classes = sorted(set(train_labels))
    truth = np.array(list(test_labels))
    positive = sorted(set(test_labels) | set(classes))[-1] if len(set(test_labels) | set(classes)) == 2 else None
    if len(classes) < 2:
        constant = classes[0] if classes else ""
        predicted = np.array([constant] * len(test_texts))
        score = np.full(len(test_texts), 1.0 if constant == positive else 0.0)
    else:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        features = vectorizer.fit_transform(train_texts)
        classifier = LogisticRegression(max_iter=2000, random_state=seed).fit(features, list(train_labels))
        test_features = vectorizer.transform(test_texts)
        predicted = np.asarray(classifier.predict(test_features))
        decision = classifier.decision_function(test_features)
        score = decision if positive == classifier.classes_[-1] else -decision
    metrics = with_bootstrap_se(truth, predicted, np.asarray(score), positive, bootstrap=bootstrap, seed=seed)
    auc = metrics["auc"] if len(classes) == 2 else None
    return ClassifierScores(accuracy=metrics["accuracy"], macro_f1=metrics["macro_f1"], n_train=len(train_texts),
                            n_test=len(test_texts), auc=auc,
                            se={k: metrics["se"][k] for k in ("auc", "accuracy", "macro_f1")} if bootstrap > 1 else None)


def condition_tstr(samples: Sequence[tuple[str, str | None]], train: Sequence[Any], holdout: Sequence[Any], *,
                   condition: str = "label", seed: int = 0) -> dict[str, Any]:
    """TSTR on a declared condition: the classifier fit on the samples' texts and the conditions they were
    written for, beside one fit on the private training records, both scored on the held-out records
    (``Record``s: their response, or their text). ``samples``: (text, condition value or None)."""
    def text_of(record: Any) -> str:
        return str(record.response or record.text)

    labelled = [(t, v) for t, v in samples if v is not None]
    test = [(text_of(r), r.condition(condition)) for r in holdout if r.condition(condition) is not None]
    if not test:
        return {"condition": condition, "skipped": "no held-out record carries the condition"}
    test_texts, test_labels = [t for t, _ in test], [str(v) for _, v in test]
    real = [(text_of(r), str(r.condition(condition))) for r in train if r.condition(condition) is not None]
    out: dict[str, Any] = {"condition": condition, "samples_labelled": len(labelled)}
    if labelled:
        out["synthetic"] = classifier_scores([t for t, _ in labelled], [str(v) for _, v in labelled], test_texts,
                                             test_labels, seed=seed).to_dict()
    out["real"] = classifier_scores([t for t, _ in real], [v for _, v in real], test_texts, test_labels,
                                    seed=seed).to_dict()
    return out
