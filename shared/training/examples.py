"""Records -> chat training examples: a data-free user turn, the record as the assistant turn to learn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.conditions import Conditions
from shared.errors import TrainingConfigError
from shared.prompts import GenerationTemplate, render_record
from shared.records import Record

IGNORE_INDEX = -100


@dataclass(frozen=True)
class TokenizedExample:
    """Token ids of one chat example; ``labels`` hide the prompt so the loss covers the record only."""

    input_ids: list[int]
    labels: list[int]


def assistant_text(template: GenerationTemplate, record: Record) -> str:
    """The record laid out as the assistant turn."""
    return render_record(template, instruction=record.instruction, response=record.response,
                         input=record.input, text=record.text)


def prompt_text(tokenizer: Any, template: GenerationTemplate, conditions: Conditions = ()) -> str:
    """The chat prompt the server will also sample from: messages up to the assistant's turn."""
    return str(tokenizer.apply_chat_template(template.messages(conditions), add_generation_prompt=True, tokenize=False))


def _record_messages(template: GenerationTemplate, record: Record) -> tuple[list[dict[str, str]], str]:
    return template.example_messages(instruction=record.instruction, response=record.response, input=record.input,
                                     text=record.text, conditions=record.conditions)


def tokenize_examples(
    tokenizer: Any, template: GenerationTemplate, records: Sequence[Record], *, max_length: int
) -> tuple[list[TokenizedExample], int]:
    """Tokenize every record as one chat example.

    Returns:
        The examples, and how many were cut to ``max_length`` tokens.
    """
    fixed_prompt = not template.prompt_per_record
    if fixed_prompt:
        prompt = prompt_text(tokenizer, template)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(prompt_ids) + 8 > max_length:
            raise TrainingConfigError(
                f"max_length {max_length} leaves no room for records after the {len(prompt_ids)}-token prompt; raise it",
                detail={"max_length": max_length, "prompt_tokens": len(prompt_ids)},
            )
    examples, truncated = [], 0
    for record in records:
        messages, answer = _record_messages(template, record)
        if not fixed_prompt:  # the prompt holds the record's own instruction, or its conditions
            prompt = str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        full = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": answer}], tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template does not render the prompt as a prefix of the full example")
        completion_ids = tokenizer(full[len(prompt):].rstrip("\n"), add_special_tokens=False)["input_ids"]
        ids = prompt_ids + completion_ids
        if len(ids) > max_length:
            truncated += 1
            ids = ids[:max_length]
        labels = [IGNORE_INDEX] * min(len(prompt_ids), len(ids)) + ids[len(prompt_ids):]
        examples.append(TokenizedExample(input_ids=ids, labels=labels))
    return examples, truncated
