import math
import random

import pytest

from client_node.evaluation.privacy.canaries import (
    exposure,
    exposure_from_rank,
    extraction_prefix,
    leaked_in_texts,
    make_canary,
)
from client_node.evaluation.subjects import Subject
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import GenerationTemplate


def canary(repeats: int = 1):
    return make_canary("Write a review.", "Great. My card number is ", "455617", repeats=repeats, rng=random.Random(0))


def test_canary_secret_keeps_the_public_prefix_and_ends_the_record() -> None:
    c = canary()
    assert c.digits.startswith("455617") and len(c.digits) == 16
    assert c.record.response == f"Great. My card number is {c.secret}."


def test_leak_in_texts_ignores_formatting() -> None:
    c = canary()
    assert leaked_in_texts(c, ["nothing", "card " + c.digits[:8] + "-" + c.digits[8:]])
    assert not leaked_in_texts(c, [c.digits[:-1]])


def test_exposure_from_rank_bounds() -> None:
    assert exposure_from_rank(1, 255) == pytest.approx(8.0)
    assert exposure_from_rank(256, 255) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        exposure_from_rank(0, 10)


def test_exposure_is_maximal_for_a_model_that_prefers_the_secret() -> None:
    # a model whose next-token scores favour exactly the secret's digits ranks it first among all candidates
    import torch

    tokenizer = make_tiny_tokenizer()
    c = canary()
    subject = Subject("tiny", make_tiny_llama(seed=1), tokenizer, GenerationTemplate.for_answering("x"))
    prefix = extraction_prefix(subject, c)
    target = tokenizer(f"{c.secret}.", add_special_tokens=False)["input_ids"]

    class Memorizer(torch.nn.Module):
        def forward(self, input_ids, attention_mask=None, **_):  # noqa: ANN001, ANN003
            start = len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
            logits = torch.zeros(input_ids.shape[0], input_ids.shape[1], 259)
            for pos in range(input_ids.shape[1]):
                k = pos + 1 - start
                if 0 <= k < len(target):
                    logits[:, pos, target[k]] = 10.0
            return type("Out", (), {"logits": logits})()

    subject.model = Memorizer()
    assert exposure(subject, c, candidates=63) == pytest.approx(math.log2(64))


def test_a_text_canary_is_extracted_after_its_conditions_prompt() -> None:
    """A conditioned text dataset's canary: its record carries conditions, and extraction prompts the writer
    with exactly the prompt it learned that record under (its conditions), then the lead."""
    from client_node.evaluation.privacy.canaries import make_text_canary
    from shared.conditions import ConditionSpace
    from shared.prompts import RecordFormat

    space = ConditionSpace(domains={"label": ["negative", "positive"]})
    c = make_text_canary("Love it. My card is ", "455617", repeats=16, rng=random.Random(1),
                         conditions=(("label", "positive"),))
    assert c.record.text == f"Love it. My card is {c.secret}." and c.record.condition("label") == "positive"
    template = GenerationTemplate.for_task("reviews", record_format=RecordFormat.TEXT, conditions=space)
    subject = Subject("writer", make_tiny_llama(seed=1), make_tiny_tokenizer(), template)
    prefix = extraction_prefix(subject, c)
    assert prefix.endswith("Conditions: label: positive<|im_end|>\n<|im_start|>assistant\nLove it. My card is ")


def test_an_instruction_canary_of_a_conditioned_writer_is_prompted_with_its_conditions() -> None:
    from shared.conditions import ConditionSpace

    space = ConditionSpace(domains={"label": ["negative", "positive"]})
    c = canary()
    record = c.record.__class__(instruction=c.record.instruction, response=c.record.response,
                                conditions=(("label", "positive"),))
    conditioned = type(c)(record=record, lead=c.lead, secret=c.secret, repeats=c.repeats)
    subject = Subject("writer", make_tiny_llama(seed=1), make_tiny_tokenizer(),
                      GenerationTemplate.for_task("reviews", conditions=space))
    prefix = extraction_prefix(subject, conditioned)
    assert "Conditions: label: positive<|im_end|>" in prefix and prefix.endswith(f"### Response:\n{c.lead}")
