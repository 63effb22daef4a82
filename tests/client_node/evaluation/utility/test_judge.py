import math

import pytest

from client_node.evaluation.utility.judge import pairwise_preferences, win_rate
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer


def test_win_rate_counts_wins_ties_and_losses() -> None:
    rate = win_rate([1.0, 0.01, -2.0, 3.0])
    assert (rate.wins, rate.ties, rate.losses) == (2, 1, 1)
    assert rate.win_rate == pytest.approx(2.5 / 4)
    assert rate.preference == pytest.approx(0.5025)
    with pytest.raises(ValueError):
        win_rate([])


def test_identical_answers_are_a_tie_whatever_the_judge_position_bias() -> None:
    # the random judge has some fixed lean to "A" or "B"; judged both ways round it must cancel
    model, tokenizer = make_tiny_llama(seed=3), make_tiny_tokenizer()
    prefs = pairwise_preferences(model, tokenizer, ["Say hi."], ["hello"], ["hello"], chat=True)
    assert abs(prefs[0]) < 1e-5


def test_swapping_candidate_and_reference_flips_the_preference() -> None:
    model, tokenizer = make_tiny_llama(seed=3), make_tiny_tokenizer()
    forward = pairwise_preferences(model, tokenizer, ["Say hi.", "Count."], ["hello there", "1 2 3"], ["bye", "x"], chat=True)
    backward = pairwise_preferences(model, tokenizer, ["Say hi.", "Count."], ["bye", "x"], ["hello there", "1 2 3"], chat=True)
    for f, b in zip(forward, backward, strict=True):
        assert math.isclose(f, -b, abs_tol=1e-5)
