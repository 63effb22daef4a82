import pytest

from client_node.evaluation.privacy.overlap import PrivateNgrams, overlap_summary


def test_longest_common_run_in_words() -> None:
    private = PrivateNgrams(["The dress fits true to size and the fabric is soft", "Awful zipper broke"])
    assert private.longest_common_run("I think the fabric is soft, really") == 4
    assert private.longest_common_run("nothing shared here") == 0
    assert private.longest_common_run("THE DRESS FITS TRUE TO SIZE") == 6


def test_summary_counts_ngram_overlap() -> None:
    private = PrivateNgrams(["a b c d e"], max_n=8)
    summary = overlap_summary(["a b c x", "q r s t"], private, n=2)
    assert summary.longest_common_words_max == 3
    assert summary.longest_common_words_mean == pytest.approx(1.5)
    assert summary.ngram_overlap == pytest.approx(2 / 6)
