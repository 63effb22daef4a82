"""Conditions: a record's label and other categorical attributes, over domains the operator declares.

The domains are public (declared at intake, never read off the records) and travel in the template; each
record's own values are private. Generation, grading and evaluation work per combination of values.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
MAX_CONDITIONS = 4
MAX_VALUES = 64
MAX_COMBINATIONS = 512
LABEL = "label"  # the condition the expert's grading and TSTR check samples against

Conditions = tuple[tuple[str, str], ...]  # a record's values, by condition name, in the space's order


class ConditionSpace(BaseModel):
    """The declared conditions: name -> its public values. Names are kept in sorted order (the space is the
    same however a JSON round trip orders keys), values in their declared order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domains: dict[str, list[str]] = Field(max_length=MAX_CONDITIONS)

    @field_validator("domains")
    @classmethod
    def _well_formed(cls, domains: dict[str, list[str]]) -> dict[str, list[str]]:
        if not domains:
            raise ValueError("declare at least one condition, or none at all")
        cleaned: dict[str, list[str]] = {}
        for name in sorted(domains):
            if not NAME_RE.match(name):
                raise ValueError(f"condition name {name!r}: a letter, then letters, digits or _ (at most 40)")
            values = cleaned[name] = [" ".join(str(v).split()) for v in domains[name]]
            if len(values) < 2 or len(values) > MAX_VALUES:
                raise ValueError(f"condition {name!r} needs 2 to {MAX_VALUES} values, got {len(values)}")
            if len(set(values)) != len(values) or not all(values) or any(len(v) > 80 for v in values):
                raise ValueError(f"condition {name!r}: values must be distinct, non-empty, at most 80 characters")
        size = math.prod(len(v) for v in cleaned.values())
        if size > MAX_COMBINATIONS:
            raise ValueError(f"the conditions make {size} combinations; at most {MAX_COMBINATIONS}")
        return cleaned

    @classmethod
    def declared(cls, domains: Mapping[str, Sequence[str]] | None) -> ConditionSpace | None:
        """The space of ``domains``; ``None`` when nothing is declared (records without conditions)."""
        return cls(domains={k: list(v) for k, v in domains.items()}) if domains else None

    @property
    def names(self) -> list[str]:
        return list(self.domains)

    @property
    def labels(self) -> list[str] | None:
        """The declared values of the ``label`` condition (public), if there is one."""
        return self.domains.get(LABEL)

    def combinations(self) -> Iterator[Conditions]:
        """Every combination of values, names sorted, values in declared order (the counts' and shares' index)."""
        for values in itertools.product(*self.domains.values()):
            yield tuple(zip(self.domains, values, strict=True))

    def check(self, given: Mapping[str, object]) -> tuple[Conditions | None, str | None]:
        """A record's conditions in the space's order, or the problem with them (for intake's line report)."""
        undeclared = sorted(set(given) - set(self.domains))
        if undeclared:
            return None, f"condition(s) {undeclared} have no declared domain; declared: {self.names}"
        out = []
        for name, values in self.domains.items():
            value = given.get(name)
            if value is None or value == "":
                return None, f"missing condition {name!r} (one of {values})"
            if not isinstance(value, str):
                return None, f"condition {name!r} must be a string, got {type(value).__name__}"
            value = " ".join(value.split())
            if value not in values:
                return None, f"condition {name!r} is {value!r}, outside its declared domain {values}"
            out.append((name, value))
        return tuple(out), None

    def describe(self, conditions: Conditions) -> str:
        """The conditions as the prompt states them: ``label: positive; item: dress``."""
        return "; ".join(f"{name}: {value}" for name, value in conditions)

    def contrasts(self, conditions: Conditions) -> list[Conditions]:
        """The combinations that differ from ``conditions`` in the label alone (in the first condition when
        none is the label): what condition guidance steers a sample away from."""
        name = LABEL if LABEL in self.domains else self.names[0]
        given = dict(conditions)
        return [tuple((k, value if k == name else v) for k, v in conditions)
                for value in self.domains[name] if value != given.get(name)]

    def allocate(self, n: int, shares: Mapping[Conditions, float] | None = None, *,
                 floor: float = 0.0) -> dict[Conditions, int]:
        """How many of ``n`` samples to write per combination: ``shares`` (default equal) mixed with equal
        shares, ``(1 - floor) * share + floor / combinations``, so each gets at least ``floor`` times an equal
        share; rounded by largest remainder (sums to n).

        Raises:
            ValueError: a share names a combination outside the space, or the shares sum to 0.
        """
        combos = list(self.combinations())
        given = {tuple(sorted(c)): float(v) for c, v in (shares or {c: 1.0 for c in combos}).items()}
        known = set(combos)
        unknown = [dict(c) for c in given if c not in known]
        if unknown:
            raise ValueError(f"shares name combinations outside the declared conditions: {unknown[:3]}")
        raw = [max(0.0, given.get(c, 0.0)) for c in combos]
        if sum(raw) <= 0:
            raise ValueError("the shares sum to 0")
        mixed = [(1 - floor) * v / sum(raw) + floor / len(combos) for v in raw]
        exact = [n * v for v in mixed]
        counts = [int(x) for x in exact]
        for i in sorted(range(len(combos)), key=lambda i: counts[i] - exact[i])[: n - sum(counts)]:
            counts[i] += 1
        return dict(zip(combos, counts, strict=True))


def condition_key(conditions: Mapping[str, str]) -> str:
    """One combination as reports name it: ``item=top, label=positive`` (``(none)`` for no conditions)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(conditions.items())) or "(none)"


def count_by_condition(conditions: Iterable[Mapping[str, str]]) -> dict[str, int]:
    """How many of the given (samples') conditions fall in each combination, by ``condition_key``, sorted."""
    counts = Counter(condition_key(c) for c in conditions)
    return dict(sorted(counts.items()))
