"""A private record as the client holds it: instruction/input/response, or free text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Record:
    """One private example. Either ``text`` or (``instruction``, ``response``) is set."""

    instruction: str = ""
    input: str = ""
    response: str = ""
    text: str = ""

    @property
    def is_text(self) -> bool:
        return bool(self.text)

    def fields(self) -> dict[str, str]:
        """The non-empty fields, as stored on disk."""
        return {k: v for k, v in asdict(self).items() if v}

    def content(self) -> str:
        """All of the record's text, for leakage checks (canaries, substrings)."""
        return "\n".join(v for v in (self.instruction, self.input, self.response, self.text) if v)

    def char_length(self) -> int:
        return sum(len(v) for v in (self.instruction, self.input, self.response, self.text))


def records_sha256(records: list[Record]) -> str:
    """Content hash of an ordered list of records (their canonical JSONL)."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record.fields(), sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()
