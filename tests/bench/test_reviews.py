"""The quality benchmark's private data: planted secrets must lie inside what the model trains on, or the
attacks on them pass without testing anything (at 96 tokens every canary's card number used to be cut)."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from bench.quality import REVIEW_TEMPLATE as TEMPLATE
from bench.quality import QualitySettings, check_canaries_fit, review_task
from shared.config import ModelSettings
from shared.models.resolve import resolve_model
from shared.training.examples import tokenize_examples

pytestmark = pytest.mark.integration  # the bundled reviews, identities and tokenizer

@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(resolve_model(QualitySettings().base_model).path)


@pytest.fixture(scope="module")
def task():
    return review_task(QualitySettings(), ModelSettings().model_cache / "wheels")


def test_every_canary_secret_is_trained_on_at_the_default_length(tokenizer, task) -> None:
    max_length = QualitySettings().max_length
    cut = check_canaries_fit(tokenizer, TEMPLATE, task, max_length)
    assert 0 <= cut < len(task.train) // 4  # most reviews whole too
    examples, _ = tokenize_examples(tokenizer, TEMPLATE, [c.record for c in task.canaries], max_length=max_length)
    for canary, example in zip(task.canaries, examples, strict=True):
        learned = tokenizer.decode([t for t in example.labels if t >= 0])
        assert canary.secret in learned  # the card number's every digit carries loss
    assert [c.repeats for c in task.canaries] == [1, 4, 16, 64]
    assert sum(r == c.record for c in task.canaries for r in task.train) == 1 + 4 + 16 + 64


def test_a_length_that_cuts_a_canary_is_refused(tokenizer, task) -> None:
    with pytest.raises(ValueError, match="cuts 4 canary"):
        check_canaries_fit(tokenizer, TEMPLATE, task, 72)


def test_planted_identities_sign_the_start_of_their_review(task) -> None:
    signed = [r.text for r in task.train if any(r.text.startswith(f"{p.name}, {p.email}: ") for p in task.planted)]
    assert len(signed) == QualitySettings().pii_records
