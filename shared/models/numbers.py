"""Which number prefixes can still end inside public bounds: the mask for a bounded numeric value.

A sampler that writes a number token by token checks each candidate prefix: may it still grow into a
number within ``[lower, upper]`` (``feasible``), and may the value close here (``closes``)? Numbers are
written plainly: an optional minus, digits without a leading zero, for floats an optional point and at
most ``max_decimals`` digits after it. Only the public bounds shape the mask (post-processing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_SYNTAX = re.compile(r"-?(0|[1-9][0-9]*)?(\.[0-9]*)?")


@dataclass(frozen=True)
class NumberDomain:
    lower: float
    upper: float
    integer: bool
    max_decimals: int = 4

    @property
    def max_digits(self) -> int:
        """Digits before the point of the widest number within the bounds."""
        return max(len(str(int(abs(self.lower)))), len(str(int(abs(self.upper)))))

    def feasible(self, prefix: str) -> bool:
        """Whether some number within the bounds starts with ``prefix``."""
        match = _SYNTAX.fullmatch(prefix)
        if match is None:
            return False
        negative = prefix.startswith("-")
        if negative and self.lower >= 0:
            return False
        whole, point = match.group(1) or "", match.group(2)
        if point is not None and (self.integer or not whole or len(point) - 1 > self.max_decimals):
            return False
        if len(whole) > self.max_digits:
            return False
        low, high = self._magnitudes(negative)  # the values' magnitudes this sign allows
        if point is not None:
            start = Decimal(whole + point.rstrip(".") if len(point) > 1 else whole)
            span = Decimal(1).scaleb(-(len(point) - 1)) if len(point) > 1 else Decimal(1)
            return _overlaps(start, start + span, low, high)
        if not whole:
            return high >= 0 and (not negative or high > 0)
        if whole == "0":
            if negative and self.integer:
                return False  # "-0" is no integer's way of being written
            return _overlaps(Decimal(0), Decimal(0 if self.integer else 1), low, high)
        for digits in range(len(whole), self.max_digits + 1):
            scale = Decimal(10) ** (digits - len(whole))
            start = Decimal(whole) * scale
            end = (Decimal(whole) + 1) * scale - (1 if self.integer else 0)
            if _overlaps(start, end, low, high):
                return True
        return False

    def closes(self, prefix: str) -> bool:
        """Whether ``prefix`` is a whole number within the bounds."""
        match = _SYNTAX.fullmatch(prefix)
        if match is None or not match.group(1) or prefix.endswith(".") or prefix == "-0":
            return False
        if self.integer and match.group(2) is not None:
            return False
        return Decimal(str(self.lower)) <= Decimal(prefix) <= Decimal(str(self.upper))

    def _magnitudes(self, negative: bool) -> tuple[Decimal, Decimal]:
        low, high = Decimal(str(self.lower)), Decimal(str(self.upper))
        if negative:
            return max(Decimal(0), -high), -low
        return max(Decimal(0), low), high


def _overlaps(start: Decimal, end: Decimal, low: Decimal, high: Decimal) -> bool:
    return start <= high and end >= low
