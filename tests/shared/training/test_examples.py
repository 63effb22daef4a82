"""Chat examples: the prompt is data-free and masked; the record is the learned assistant turn."""

from __future__ import annotations

from shared.models.tiny import make_tiny_tokenizer
from shared.prompts import GenerationTemplate
from shared.records import Record
from shared.training.examples import IGNORE_INDEX, prompt_text, tokenize_examples

TEMPLATE = GenerationTemplate.for_task("clinic questions")


def test_labels_cover_exactly_the_record_and_the_end_token() -> None:
    tokenizer = make_tiny_tokenizer()
    record = Record(instruction="Where is ward 7?", response="On floor 3.")
    (example,), truncated = tokenize_examples(tokenizer, TEMPLATE, [record], max_length=512)
    assert truncated == 0 and len(example.labels) == len(example.input_ids)
    prompt = prompt_text(tokenizer, TEMPLATE)
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert all(label == IGNORE_INDEX for label in example.labels[:n_prompt])
    learned = tokenizer.decode([t for t in example.labels if t != IGNORE_INDEX])
    assert learned == "### Instruction:\nWhere is ward 7?\n### Response:\nOn floor 3.<|im_end|>"
    assert "ward 7" not in prompt  # the prompt holds no private text


def test_truncation_is_counted() -> None:
    tokenizer = make_tiny_tokenizer()
    examples, truncated = tokenize_examples(tokenizer, TEMPLATE, [Record(instruction="x" * 200, response="y")], max_length=120)
    assert truncated == 1 and len(examples[0].input_ids) == 120
    assert any(label != IGNORE_INDEX for label in examples[0].labels)


def test_max_length_shorter_than_prompt_is_refused() -> None:
    import pytest

    from shared.errors import TrainingConfigError

    with pytest.raises(TrainingConfigError, match="no room"):
        tokenize_examples(make_tiny_tokenizer(), TEMPLATE, [Record(instruction="a", response="b")], max_length=64)
