"""Data-free generation prompts and the fixed record layout the DP model learns to write.

A record becomes one chat example: the user turn is a fixed prompt made from the task description only
(no private text), the assistant turn is the record laid out by ``render_record``. The template travels
in the adapter metadata so the server can sample new records without ever seeing a private one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.conditions import Conditions, ConditionSpace
from shared.tables.schema import TableSchema


class RecordFormat(StrEnum):
    """How a record is laid out in the assistant turn."""

    INSTRUCTION_RESPONSE = "instruction_response"
    TEXT = "text"
    CHAT = "chat"  # the instruction (and input) is the user turn, the response the assistant turn
    TABLE_ROW = "table_row"  # the user turn shows example rows (the instruction), the assistant writes one row

    @property
    def prompt_per_record(self) -> bool:
        """True when the user turn carries the record's own instruction rather than one fixed prompt."""
        return self in (RecordFormat.CHAT, RecordFormat.TABLE_ROW)


INSTRUCTION_HEADER = "### Instruction:"
INPUT_HEADER = "### Input:"
EXAMPLE_ROWS_HEADER = "Example rows:"
RESPONSE_HEADER = "### Response:"
CONDITIONS_HEADER = "Conditions:"

_SECTION_RE = re.compile(r"^### (Instruction|Input|Response):[ \t]*$", re.MULTILINE)


def record_format_of(records: Sequence[Any]) -> RecordFormat:
    """How a set of records is laid out: free text when its records are texts (``is_text``)."""
    return RecordFormat.TEXT if records and records[0].is_text else RecordFormat.INSTRUCTION_RESPONSE


class GenerationTemplate(BaseModel):
    """The data-free prompt an adapter was trained with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_prompt: str = Field(min_length=1, max_length=2000)
    system_prompt: str | None = Field(None, max_length=2000)
    record_format: RecordFormat = RecordFormat.INSTRUCTION_RESPONSE
    table: TableSchema | None = Field(None, description="table_row: the table's public schema")
    conditions: ConditionSpace | None = Field(
        None, description="the declared conditions: each example's prompt states its values, and the server "
        "samples per combination")

    @model_validator(mode="after")
    def _table_has_schema(self) -> GenerationTemplate:
        if (self.record_format is RecordFormat.TABLE_ROW) != (self.table is not None):
            raise ValueError("a table_row template needs the table's schema, and only it has one")
        if self.conditions is not None and self.record_format not in (RecordFormat.INSTRUCTION_RESPONSE, RecordFormat.TEXT):
            raise ValueError("conditions steer instruction_response and text records (a table has its label column)")
        return self

    @property
    def prompt_per_record(self) -> bool:
        """True when the user turn differs between records: their own instruction, or their conditions."""
        return self.record_format.prompt_per_record or self.conditions is not None

    @classmethod
    def for_table(cls, description: str, schema: TableSchema) -> GenerationTemplate:
        """The prompt for writing one row of a table (columns named, the label's values listed)."""
        description = " ".join(description.split())
        if not description:
            raise ValueError("task description must not be empty")
        keys = ", ".join(_key_hint(c.name, c.kind.value, c.categories) for c in schema.columns)
        prompt = f"Write one new row of a table of {description} as a JSON object of strings with the keys {keys}."
        return cls(user_prompt=prompt, record_format=RecordFormat.TABLE_ROW, table=schema)

    @classmethod
    def for_task(cls, description: str, *, record_format: RecordFormat = RecordFormat.INSTRUCTION_RESPONSE,
                 conditions: ConditionSpace | None = None) -> GenerationTemplate:
        """The standard prompt for a task description, e.g. "patient questions and a doctor's answers"; with
        ``conditions``, each example's prompt ends with its values (``messages(conditions)``)."""
        description = " ".join(description.split())
        if not description:
            raise ValueError("task description must not be empty")
        if record_format is RecordFormat.INSTRUCTION_RESPONSE:
            prompt = f"Write a new example of an instruction and its response about: {description}"
        else:
            prompt = f"Write a new example text about: {description}"
        return cls(user_prompt=prompt, record_format=record_format, conditions=conditions)

    @classmethod
    def for_answering(cls, description: str) -> GenerationTemplate:
        """A domain model's template: the user asks (a record's instruction), the model answers."""
        return cls(user_prompt=" ".join(description.split()) or "answer", record_format=RecordFormat.CHAT)

    def assistant_prefix(self) -> str:
        """Fixed text the assistant turn starts with, given to the model when sampling (the layout's first
        header): a weak DP adapter then only has to continue the layout, not start it (measured: 0 of 16
        samples well-formed without it, 6 of 16 with it, eps 8 on 160 records)."""
        return f"{INSTRUCTION_HEADER}\n" if self.record_format is RecordFormat.INSTRUCTION_RESPONSE else ""

    def messages(self, conditions: Conditions = ()) -> list[dict[str, str]]:
        """Chat messages up to (not including) the assistant turn; a conditioned template's prompt states
        ``conditions`` (every declared one, values in their domains) on its last line.

        Raises:
            ValueError: conditions for a template without them, or not one value of each declared one.
        """
        out = []
        if self.system_prompt:
            out.append({"role": "system", "content": self.system_prompt})
        out.append({"role": "user", "content": self.user_prompt + self._conditions_line(conditions)})
        return out

    def _conditions_line(self, conditions: Conditions) -> str:
        if self.conditions is None:
            if conditions:
                raise ValueError("this template declares no conditions")
            return ""
        checked, problem = self.conditions.check(dict(conditions))
        if checked is None:
            raise ValueError(problem)
        return f"\n{CONDITIONS_HEADER} {self.conditions.describe(checked)}"

    def table_messages(self, example_rows: str) -> list[dict[str, str]]:
        """The user turn of a table row: the prompt, then the example rows (one JSON object a line)."""
        content = self.user_prompt + (f"\n\n{EXAMPLE_ROWS_HEADER}\n{example_rows.strip()}" if example_rows.strip() else "")
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*system, {"role": "user", "content": content}]

    def example_messages(self, *, instruction: str = "", response: str = "", input: str = "",
                         text: str = "", conditions: Conditions = ()) -> tuple[list[dict[str, str]], str]:
        """One record as a chat example: the messages before the assistant turn, and the assistant text.

        For ``CHAT`` the user turn is the record's own instruction (this is how a domain model is
        trained on refined synthetic data); for ``TABLE_ROW`` the prompt followed by the example rows the
        instruction holds (none: the bare prompt); for the other formats it is the fixed, data-free prompt.
        """
        if self.record_format is RecordFormat.TABLE_ROW:
            return self.table_messages(instruction), response.strip()
        if self.record_format is RecordFormat.CHAT:
            system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
            question = instruction.strip() + (f"\n\n{input.strip()}" if input.strip() else "")
            return [*system, {"role": "user", "content": question}], response.strip()
        return self.messages(conditions), render_record(self, instruction=instruction, response=response, input=input,
                                                        text=text)


def _key_hint(name: str, kind: str, categories: list[str] | None) -> str:
    """A key as the table prompt names it: with its kind, or its public values when few."""
    if categories and len(categories) <= 6:
        return f"{name} (one of {', '.join(categories)})"
    return name if kind == "categorical" else f"{name} ({kind})"


def render_record(
    template: GenerationTemplate, *, instruction: str = "", response: str = "", input: str = "", text: str = ""
) -> str:
    """Lay out one record as the assistant turn the model learns to write."""
    if template.record_format is RecordFormat.TEXT:
        return text.strip()
    if template.record_format in (RecordFormat.CHAT, RecordFormat.TABLE_ROW):
        return response.strip()
    parts = [INSTRUCTION_HEADER, instruction.strip()]
    if input.strip():
        parts += [INPUT_HEADER, input.strip()]
    parts += [RESPONSE_HEADER, response.strip()]
    return "\n".join(parts)


def parse_record(template: GenerationTemplate, generated: str) -> dict[str, str] | None:
    """Parse generated text back into fields; ``None`` when it does not follow the layout."""
    if template.record_format is RecordFormat.TEXT:
        text = generated.strip()
        return {"text": text} if text else None
    if template.record_format is RecordFormat.CHAT:
        raise ValueError("a chat template answers questions; it does not generate whole records")
    if template.record_format is RecordFormat.TABLE_ROW:
        raise ValueError("table rows are parsed by shared.tables.parse_row_json")
    sections: dict[str, str] = {}
    matches = list(_SECTION_RE.finditer(generated))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(generated)
        name = match.group(1).lower()
        if name in sections:
            return None
        sections[name] = generated[match.end() : end].strip()
    if not sections.get("instruction") or not sections.get("response"):
        return None
    return {"instruction": sections["instruction"], "input": sections.get("input", ""), "response": sections["response"]}
