import pytest

from client_node.evaluation.utility.tstr import classifier_scores

POS = ["love this dress, fits perfectly", "beautiful and soft, love it", "perfect fit, love the color", "great quality love"]
NEG = ["awful fabric, returned it", "poor fit, cheap and awful", "returned, terrible quality", "cheap awful seams"]


def test_a_classifier_trained_on_separable_text_scores_on_real_text() -> None:
    scores = classifier_scores(POS + NEG, ["pos"] * 4 + ["neg"] * 4, ["i love it", "awful, returned"], ["pos", "neg"])
    assert scores.accuracy == 1.0 and scores.macro_f1 == 1.0 and scores.auc == 1.0
    assert (scores.n_train, scores.n_test) == (8, 2)


def test_swapped_labels_score_zero() -> None:
    scores = classifier_scores(POS + NEG, ["neg"] * 4 + ["pos"] * 4, ["i love it", "awful, returned"], ["pos", "neg"])
    assert scores.accuracy == 0.0


def test_one_label_only_predicts_that_label_with_half_macro_f1_on_balanced_test() -> None:
    scores = classifier_scores(POS, ["pos"] * 4, ["i love it", "awful"], ["pos", "neg"])
    assert scores.accuracy == 0.5 and scores.auc is None
    assert scores.macro_f1 == pytest.approx((2 / 3 + 0) / 2)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        classifier_scores(POS, ["pos"], ["x"], ["pos"])
