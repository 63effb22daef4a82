"""The data-free template and the record layout: rendering and parsing are inverse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.prompts import GenerationTemplate, RecordFormat, parse_record, render_record

TEMPLATE = GenerationTemplate.for_task("  patient questions\n and a doctor's answers ")


def test_template_is_built_from_the_task_only() -> None:
    assert TEMPLATE.user_prompt.endswith("about: patient questions and a doctor's answers")
    assert TEMPLATE.messages() == [{"role": "user", "content": TEMPLATE.user_prompt}]
    with pytest.raises(ValueError):
        GenerationTemplate.for_task("   ")


_field = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="#"), min_size=1).filter(str.strip)


@given(_field, _field, st.one_of(st.just(""), _field))
def test_parse_inverts_render(instruction: str, response: str, extra: str) -> None:
    text = render_record(TEMPLATE, instruction=instruction, response=response, input=extra)
    assert parse_record(TEMPLATE, text) == {"instruction": instruction.strip(), "input": extra.strip(), "response": response.strip()}


@pytest.mark.parametrize("generated", ["", "just some text", "### Instruction:\nhi\n", "### Response:\nno question",
                                       "### Instruction:\na\n### Instruction:\nb\n### Response:\nc"])
def test_parse_rejects_malformed(generated: str) -> None:
    assert parse_record(TEMPLATE, generated) is None


def test_text_format() -> None:
    template = GenerationTemplate.for_task("reviews", record_format=RecordFormat.TEXT)
    assert parse_record(template, render_record(template, text=" a review ")) == {"text": "a review"}
