"""A private record as the client holds it: instruction/input/response, or free text, and its conditions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Record:
    """One private example. Either ``text`` or (``instruction``, ``response``) is set; ``conditions`` are its
    values of the dataset's declared conditions (``shared.conditions``), e.g. ``(("label", "positive"),)``."""

    instruction: str = ""
    input: str = ""
    response: str = ""
    text: str = ""
    conditions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_fields(cls, fields: dict[str, object]) -> Record:
        """A record from its stored fields (``fields()``): conditions as a JSON object."""
        conditions = fields.get("conditions") or {}
        assert isinstance(conditions, dict), "stored conditions are an object"
        values = {k: str(v) for k, v in fields.items() if k != "conditions"}
        return cls(**values, conditions=tuple((str(k), str(v)) for k, v in conditions.items()))

    @property
    def is_text(self) -> bool:
        return bool(self.text)

    def fields(self) -> dict[str, object]:
        """The non-empty fields, as stored on disk (conditions as an object)."""
        out: dict[str, object] = {k: v for k, v in asdict(self).items() if v and k != "conditions"}
        if self.conditions:
            out["conditions"] = dict(self.conditions)
        return out

    def text_fields(self) -> dict[str, str]:
        """instruction, input, response and text (empty ones too): what ``render_record`` lays out."""
        return {"instruction": self.instruction, "input": self.input, "response": self.response, "text": self.text}

    def condition(self, name: str) -> str | None:
        return dict(self.conditions).get(name)

    def content(self) -> str:
        """All of the record's text, for leakage checks (canaries, substrings); conditions are values of
        public domains, not text."""
        return "\n".join(v for v in (self.instruction, self.input, self.response, self.text) if v)

    def char_length(self) -> int:
        return sum(len(v) for v in (self.instruction, self.input, self.response, self.text))


def records_sha256(records: list[Record]) -> str:
    """Content hash of an ordered list of records (their canonical JSONL)."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record.fields(), sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()
