"""PII reconstruction rate (the KnowledgeSG measure): the share of personal identifiers found in the
private data (names, e-mail addresses, card numbers) that reappear in the synthetic samples."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")


@dataclass(frozen=True)
class PiiReconstruction:
    rate: float
    found: int
    total: int
    found_items: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pii_in_texts(texts: Iterable[str], names: Iterable[str] = ()) -> set[str]:
    """E-mail addresses and card numbers found in ``texts`` by pattern, plus each of ``names`` present
    (person names cannot be told by pattern; the caller knows which were planted or found by NER)."""
    joined = "\n".join(texts)
    found = {m.group(0).lower() for m in _EMAIL.finditer(joined)}
    found |= {re.sub(r"\D", "", m.group(0)) for m in _CARD.finditer(joined)}
    lowered = joined.lower()
    found |= {n.lower() for n in names if n.strip() and n.lower() in lowered}
    return found


def pii_reconstruction(private_items: set[str], synthetic_texts: Sequence[str]) -> PiiReconstruction:
    """Which of ``private_items`` (as ``pii_in_texts`` normalizes them) appear in the synthetic texts."""
    if not private_items:
        return PiiReconstruction(rate=0.0, found=0, total=0, found_items=[])
    lowered = "\n".join(synthetic_texts).lower()
    digits = re.sub(r"\D", "", lowered)
    found = sorted(item for item in private_items if (item in digits if item.isdigit() else item in lowered))
    return PiiReconstruction(rate=len(found) / len(private_items), found=len(found), total=len(private_items),
                             found_items=found)
