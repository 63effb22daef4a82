"""A model under evaluation and how it is asked about a record.

Two roles: a *writer* (a DP adapter: it writes whole records under its data-free template) and an
*answerer* (the base model, a knowledge adapter: the record's instruction is the user turn). Every
utility and privacy measure asks its question through this, so rows of different kinds compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.conditions import Conditions
from shared.models.sampling import sample_texts
from shared.models.scoring import continuation_logprobs
from shared.prompts import INSTRUCTION_HEADER, RESPONSE_HEADER, GenerationTemplate, RecordFormat
from shared.records import Record


@dataclass
class Subject:
    """A loaded model and the template it was trained with (``RecordFormat.CHAT`` = an answerer)."""

    name: str
    model: Any
    tokenizer: Any
    template: GenerationTemplate

    @property
    def is_writer(self) -> bool:
        return self.template.record_format is RecordFormat.INSTRUCTION_RESPONSE

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        return str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))

    def answer_prompt(self, instruction: str, conditions: Conditions = ()) -> str:
        """The prompt after which the model's text is its answer to ``instruction`` (a writer's prompt states
        the record's ``conditions`` when its template declares them)."""
        if self.is_writer:
            return (self.chat_prompt(self.template.messages(conditions))
                    + f"{INSTRUCTION_HEADER}\n{instruction.strip()}\n{RESPONSE_HEADER}\n")
        return self.chat_prompt([{"role": "user", "content": instruction.strip()}])

    def record_prompt(self, record: Record) -> str:
        """The prompt after which the model writes ``record``'s learned part: a text template's prompt for
        the record's conditions (and its layout header), else the answer prompt for its instruction."""
        if self.template.record_format is RecordFormat.TEXT:
            return self.chat_prompt(self.template.messages(record.conditions)) + self.template.assistant_prefix()
        return self.answer_prompt(record.instruction, record.conditions if self.is_writer else ())

    def writes(self, records: Sequence[Record], *, max_new_tokens: int = 64, batch_size: int = 16) -> list[str]:
        """Greedy, what the model writes for each record's prompt (``record_prompt``: its conditions or
        instruction), up to where it starts a new section."""
        return self._greedy([self.record_prompt(r) for r in records], max_new_tokens, batch_size)

    def answers(self, instructions: Sequence[str], *, max_new_tokens: int = 64, batch_size: int = 16) -> list[str]:
        """Greedy answers (a writer's answer ends where it starts a new section)."""
        return self._greedy([self.answer_prompt(i) for i in instructions], max_new_tokens, batch_size)

    def _greedy(self, prompts: Sequence[str], max_new_tokens: int, batch_size: int) -> list[str]:
        texts = self.continue_texts(prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
        return [t.split("###", 1)[0].strip() for t in texts]

    def continue_texts(self, prefixes: Sequence[str], *, max_new_tokens: int, batch_size: int = 16,
                       strip: bool = True) -> list[str]:
        """Greedy continuations of each prefix (already in the model's prompt format)."""
        out: list[str] = []
        for start in range(0, len(prefixes), batch_size):
            out.extend(sample_texts(self.model, self.tokenizer, list(prefixes[start : start + batch_size]),
                                    max_new_tokens=max_new_tokens, temperature=0.0, strip=strip))
        return out

    def response_losses(self, records: Sequence[Record], *, batch_size: int = 8) -> list[float]:
        """Per record, the mean token loss of its response given its instruction."""
        contexts = [self.answer_prompt(r.instruction) for r in records]
        responses = [r.response.strip() for r in records]
        lps = continuation_logprobs(self.model, self.tokenizer, contexts, responses, batch_size=batch_size,
                                    add_special_tokens=False)
        return [-lp for lp in lps]

    def sequence_logprobs(self, contexts: Sequence[str], continuations: Sequence[str], *, batch_size: int = 16) -> list[float]:
        """Total log-probability of each continuation (for exposure ranking)."""
        return continuation_logprobs(self.model, self.tokenizer, contexts, continuations, batch_size=batch_size,
                                     add_special_tokens=False, reduce="sum")
