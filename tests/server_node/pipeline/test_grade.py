"""The grading stage on the tiny model: bounded, deterministic, order-preserving, batch-invariant."""

from __future__ import annotations

import pytest

from server_node.inference import LocalTextModel
from server_node.pipeline.grade import (
    CRITERIA,
    GradingMethod,
    grade_samples,
    render_question,
    sample_text,
    yes_probabilities,
)
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer

SAMPLES = [
    {"instruction": "When is ward 7 open?", "input": "", "response": "From 8 to 5."},
    {"instruction": "zzkq", "input": "", "response": "!!"},
    {"text": "A short review of a dress."},
]


@pytest.mark.parametrize("method", list(GradingMethod))
@pytest.mark.parametrize("chat", [False, True])
def test_grades_are_probabilities_in_order_and_batch_invariant(chat: bool, method: GradingMethod) -> None:
    model, tokenizer = make_tiny_llama(), make_tiny_tokenizer()
    grades = grade_samples(lm=LocalTextModel(model, tokenizer), samples=SAMPLES, domain="clinic questions", chat=chat,
                           batch_size=3, method=method)
    assert len(grades) == 3 and all(0 < g.score < 1 for g in grades)
    assert all(set(g.criteria) == set(CRITERIA) and "weakest" in g.reason for g in grades)
    one = grade_samples(lm=LocalTextModel(model, tokenizer), samples=SAMPLES, domain="clinic questions", chat=chat,
                        batch_size=1, method=method)
    assert [g.score for g in one] == pytest.approx([g.score for g in grades], abs=1e-4)
    prompts = [render_question(tokenizer, sample_text(s), "Is it fine?", chat=chat) for s in SAMPLES]
    one_by_one = yes_probabilities(LocalTextModel(model, tokenizer), prompts, chat=chat, batch_size=1)
    batched = yes_probabilities(LocalTextModel(model, tokenizer), prompts, chat=chat, batch_size=3)
    assert one_by_one == pytest.approx(batched, abs=1e-4)
    again = grade_samples(lm=LocalTextModel(model, tokenizer), samples=SAMPLES, domain="clinic questions", chat=chat,
                          method=method)
    assert [g.score for g in again] == pytest.approx([g.score for g in grades], abs=1e-5)


def test_sample_text_layout() -> None:
    assert sample_text(SAMPLES[0]) == "Instruction: When is ward 7 open?\nResponse: From 8 to 5."
    assert sample_text(SAMPLES[2]) == "Text: A short review of a dress."


def test_requested_label_is_the_single_label_the_instruction_names() -> None:
    from server_node.pipeline.grade import requested_label

    labels = ["positive", "negative"]
    assert requested_label({"instruction": "Write a Positive review of a dress."}, labels) == "positive"
    assert requested_label({"instruction": "Write a review, positive or negative."}, labels) is None
    assert requested_label({"instruction": "Write a nonpositive review."}, labels) is None


def test_a_given_label_condition_is_what_the_sample_was_written_for() -> None:
    from server_node.pipeline.grade import requested_label

    labels = ["positive", "negative"]
    given = {"text": "A positive start, then it tore.", "conditions": {"label": "negative"}}
    assert requested_label(given, labels) == "negative"  # not parsed out of the text
    assert requested_label({"text": "x", "conditions": {"label": "neutral"}}, labels) is None
    assert requested_label({"text": "A positive review.", "conditions": {"item": "Tops"}}, labels) == "positive"


@pytest.mark.parametrize("chat", [False, True])
def test_condition_criterion_scores_the_requested_label(chat: bool) -> None:
    from server_node.pipeline.grade import CONDITION
    from shared.models.scoring import option_probabilities

    model, tokenizer = make_tiny_llama(), make_tiny_tokenizer()
    samples = [{"instruction": "Write a positive review.", "response": "Lovely dress."},
               {"instruction": "Write a negative review.", "response": "Lovely dress."},
               {"instruction": "Write a review.", "response": "Lovely dress."}]
    grades = grade_samples(lm=LocalTextModel(model, tokenizer), samples=samples, domain="reviews", chat=chat,
                           labels=["positive", "negative"])
    cond = [g.criteria[CONDITION] for g in grades]
    # Same response, opposite requested labels: the two condition scores are complementary.
    assert cond[0] + cond[1] == pytest.approx(1.0, abs=1e-5)
    assert cond[2] == 0.0 and grades[2].label is None and "no single label" in grades[2].reason
    assert [g.label for g in grades[:2]] == ["positive", "negative"]
    dist = option_probabilities(model, tokenizer, ["x"], ["alpha", "beta", "gamma"], chat=chat)[0]
    assert sum(dist) == pytest.approx(1.0) and len(dist) == 3


def test_continuation_logprobs_match_a_single_forward() -> None:
    import torch

    from shared.models.scoring import continuation_logprobs

    model, tokenizer = make_tiny_llama(), make_tiny_tokenizer()
    got = continuation_logprobs(model, tokenizer, ["ab", "a much longer context"], ["cd", "e"], batch_size=2)
    ids = tokenizer("abcd", add_special_tokens=True)["input_ids"]
    with torch.inference_mode():
        logprobs = model(input_ids=torch.tensor([ids])).logits.log_softmax(-1)[0]
    expected = (logprobs[1, ids[2]] + logprobs[2, ids[3]]) / 2
    assert got[0] == pytest.approx(float(expected), abs=1e-5)


def test_continuation_logprobs_do_not_depend_on_the_batch() -> None:
    from shared.models.scoring import continuation_logprobs

    model, tokenizer = make_tiny_llama(), make_tiny_tokenizer()
    contexts, continuations = ["ab", "a much longer context", "x"], ["cd", "e", "a longer continuation here"]
    batched = continuation_logprobs(model, tokenizer, contexts, continuations, batch_size=3, reduce="sum")
    alone = [continuation_logprobs(model, tokenizer, [c], [t], reduce="sum")[0] for c, t in zip(contexts, continuations, strict=True)]
    assert batched == pytest.approx(alone, abs=1e-4)


def test_a_sample_of_the_wrong_label_fails_however_good_its_mean() -> None:
    from server_node.pipeline.grade import CONDITION, Grade, passes

    good = Grade(score=0.8, criteria={"fluency": 0.9, CONDITION: 0.7}, reason="")
    wrong_label = Grade(score=0.7, criteria={"fluency": 1.0, "relevance": 1.0, CONDITION: 0.1}, reason="")
    unlabelled = Grade(score=0.6, criteria={"fluency": 0.6}, reason="")
    assert passes(good, min_grade=0.5, min_condition=0.5)
    assert not passes(wrong_label, min_grade=0.5, min_condition=0.5)
    assert passes(wrong_label, min_grade=0.5, min_condition=0.0)
    assert passes(unlabelled, min_grade=0.5, min_condition=0.9)


def test_label_bias_is_the_class_balanced_mean_answer() -> None:
    from server_node.pipeline.grade import _calibrated, label_bias

    labels = ["negative", "positive"]
    # an expert that leans negative on everything, a little less on positive texts
    pos, neg = [0.6, 0.4], [0.8, 0.2]
    balanced = label_bias([pos, neg], ["positive", "negative"], labels, [0.5, 0.5], calibration_weight=0)
    assert balanced == pytest.approx([0.7, 0.3])
    assert _calibrated(pos, balanced)[1] > 0.5 > _calibrated(neg, balanced)[1]  # each passes as its own label
    # requested 3:1, the same texts: each requested label weighs the same, so the bias is unchanged
    skewed = label_bias([pos, pos, pos, neg], ["positive"] * 3 + ["negative"], labels, [0.5, 0.5], calibration_weight=0)
    assert skewed == pytest.approx(balanced)


def test_label_bias_of_a_small_batch_leans_on_the_content_free_answer() -> None:
    from server_node.pipeline.grade import label_bias

    labels = ["negative", "positive"]
    assert label_bias([], [], labels, [0.4, 0.6]) == pytest.approx([0.4, 0.6])
    two = label_bias([[0.8, 0.2], [0.8, 0.2]], ["negative", "positive"], labels, [0.4, 0.6], calibration_weight=2)
    assert two == pytest.approx([0.6, 0.4])  # halfway: two samples against two pseudo-samples
    unrequested = label_bias([[0.9, 0.1]], [None], labels, [0.5, 0.5], calibration_weight=0)
    assert unrequested == pytest.approx([0.9, 0.1])  # no requested label: the plain mean


def test_shuffled_words_are_the_same_words_in_a_fixed_order() -> None:
    from server_node.pipeline.grade import shuffled_words

    text = "the fabric is soft and the fit is true to size"
    once = shuffled_words(text)
    assert once == shuffled_words(text) and sorted(once.split()) == sorted(text.split()) and once != text
