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


def test_condition_tstr_trains_on_what_samples_were_written_for_and_tests_on_held_out_records() -> None:
    from client_node.evaluation.utility.tstr import condition_tstr
    from shared.records import Record

    def record(text: str, label: str) -> Record:
        return Record(text=text, conditions=(("label", label),))

    good = ["lovely fit great fabric", "great colour lovely", "fits great", "lovely soft great"]
    bad = ["tore at once awful", "awful seams tore", "shrank awful", "tore and faded"]
    train = [record(t, "positive") for t in good] + [record(t, "negative") for t in bad]
    holdout = [record("great and lovely", "positive"), record("awful, it tore", "negative")]
    samples = [("lovely great", "positive"), ("awful tore", "negative"), ("unlabelled", None)]
    out = condition_tstr(samples, train, holdout)
    assert out["samples_labelled"] == 2 and out["synthetic"]["n_train"] == 2 and out["synthetic"]["n_test"] == 2
    assert out["synthetic"]["accuracy"] == 1.0 and out["real"]["auc"] == 1.0
    assert "skipped" in condition_tstr(samples, train, [Record(text="x")])


def test_bootstrap_gives_standard_errors_over_the_test_texts() -> None:
    test = ["i love it", "awful, returned", "love the fit", "cheap seams", "love", "returned it"] * 5
    truth = ["pos", "neg", "pos", "neg", "pos", "neg"] * 5
    noisy = classifier_scores(POS + NEG, ["pos", "neg", "pos", "neg"] + ["neg", "pos", "neg", "pos"], test, truth,
                              bootstrap=100)
    assert noisy.se is not None and set(noisy.se) == {"auc", "accuracy", "macro_f1"}
    assert noisy.se["accuracy"] is not None and 0 < noisy.se["accuracy"] < 0.2
    assert classifier_scores(POS + NEG, ["pos"] * 4 + ["neg"] * 4, test, truth).se is None
