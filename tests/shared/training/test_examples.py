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


def test_a_conditioned_example_learns_the_text_given_its_condition() -> None:
    """The condition is in the masked prompt (the model learns text given it, never the condition itself);
    two records of other conditions get other prompts, the one the server samples from for that condition."""
    import pytest

    from shared.conditions import ConditionSpace
    from shared.prompts import RecordFormat

    tokenizer = make_tiny_tokenizer()
    template = GenerationTemplate.for_task("clothing reviews", record_format=RecordFormat.TEXT,
                                           conditions=ConditionSpace(domains={"label": ["negative", "positive"]}))
    records = [Record(text="Fits well.", conditions=(("label", "positive"),)),
               Record(text="Tore at once.", conditions=(("label", "negative"),))]
    examples, _ = tokenize_examples(tokenizer, template, records, max_length=512)
    for record, example in zip(records, examples, strict=True):
        prompt = prompt_text(tokenizer, template, record.conditions)
        assert prompt.endswith("Conditions: label: " + str(record.condition("label")) + "<|im_end|>\n<|im_start|>assistant\n")
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        assert example.input_ids[:n_prompt] == tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert all(label == IGNORE_INDEX for label in example.labels[:n_prompt])
        assert tokenizer.decode([t for t in example.labels if t != IGNORE_INDEX]) == f"{record.text}<|im_end|>"
    with pytest.raises(ValueError, match="missing condition"):
        tokenize_examples(tokenizer, template, [Record(text="No label.")], max_length=512)
    with pytest.raises(ValueError, match="declares no conditions"):
        TEMPLATE.messages((("label", "positive"),))
