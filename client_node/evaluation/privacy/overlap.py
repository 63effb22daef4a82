"""Verbatim overlap between synthetic texts and private records: the longest run of words a synthetic
text shares with any private record, and the share of its word n-grams found in the private data."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class OverlapSummary:
    longest_common_words_max: int
    longest_common_words_mean: float
    ngram_overlap: float  # share of synthetic word n-grams present in the private data
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PrivateNgrams:
    """Every word n-gram (n = 1..max_n) of the private records, for fast lookups."""

    def __init__(self, private_texts: Sequence[str], *, max_n: int = 32) -> None:
        self.max_n = max_n
        self.grams: list[set[tuple[str, ...]]] = [set() for _ in range(max_n + 1)]
        for text in private_texts:
            tokens = words(text)
            for n in range(1, max_n + 1):
                self.grams[n].update(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))

    def longest_common_run(self, text: str) -> int:
        """Length in words of the longest run of ``text`` that occurs in some private record (capped at max_n)."""
        tokens = words(text)
        low, high = 0, min(self.max_n, len(tokens))
        while low < high:  # a run of n shared implies runs of every shorter length: binary search
            mid = (low + high + 1) // 2
            if any(tuple(tokens[i : i + mid]) in self.grams[mid] for i in range(len(tokens) - mid + 1)):
                low = mid
            else:
                high = mid - 1
        return low

    def ngram_share(self, text: str, n: int) -> tuple[int, int]:
        tokens = words(text)
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return sum(g in self.grams[n] for g in grams), len(grams)


def overlap_summary(synthetic_texts: Sequence[str], private: PrivateNgrams, *, n: int = 8) -> OverlapSummary:
    if not synthetic_texts:
        raise ValueError("no synthetic texts")
    runs = [private.longest_common_run(t) for t in synthetic_texts]
    hit = total = 0
    for text in synthetic_texts:
        h, t = private.ngram_share(text, n)
        hit, total = hit + h, total + t
    return OverlapSummary(longest_common_words_max=max(runs), longest_common_words_mean=sum(runs) / len(runs),
                          ngram_overlap=hit / total if total else 0.0, n=len(runs))
