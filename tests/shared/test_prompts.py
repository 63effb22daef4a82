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


def test_table_template_names_columns_and_public_values() -> None:
    from shared.tables.schema import ColumnSpec, TableSchema

    schema = TableSchema(columns=[ColumnSpec(name="age", kind="integer"), ColumnSpec(name="job", kind="categorical"),
                                  ColumnSpec(name="y", kind="categorical", categories=["no", "yes"])], label="y")
    template = GenerationTemplate.for_table("staff", schema)
    assert "age (integer), job, y (one of no, yes)" in template.user_prompt and template.table == schema
    messages, answer = template.example_messages(instruction='{"age":"1"}', response='{"age":"2"}')
    assert messages[-1]["content"].endswith('Example rows:\n{"age":"1"}') and answer == '{"age":"2"}'
    bare, _ = template.example_messages(instruction="", response="{}")
    assert bare[-1]["content"] == template.user_prompt
    assert GenerationTemplate.model_validate_json(template.model_dump_json()) == template
    with pytest.raises(ValueError, match="schema"):
        GenerationTemplate(user_prompt="x", record_format="table_row")
    with pytest.raises(ValueError, match="schema"):
        GenerationTemplate(user_prompt="x", table=schema)
