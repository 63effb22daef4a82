"""The prompts that vote: one per group (its records shown as examples, then the task), and the public
prompt (the task alone) whose top next tokens are the candidates every group votes over."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.conditions import Conditions
from shared.prompts import GenerationTemplate, render_record
from shared.records import Record


def group_messages(template: GenerationTemplate, records: Sequence[Record],
                   conditions: Conditions = ()) -> list[dict[str, str]]:
    """The task (for ``conditions``, in a conditioned template) with the group's records as numbered
    examples before it."""
    examples = "\n\n".join(f"Example {i}:\n{render_record(template, **record.text_fields())}"
                           for i, record in enumerate(records, start=1))
    messages = template.messages(conditions)
    last = messages[-1]
    return [*messages[:-1], {"role": "user", "content": f"Here are examples:\n\n{examples}\n\n{last['content']}"}]


def render_prompt(tokenizer: Any, messages: list[dict[str, str]], *, start: str) -> str:
    """Chat-rendered prompt ending inside the assistant turn, at ``start`` (the layout's header and any
    public prefix of the sample)."""
    return str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)) + start
