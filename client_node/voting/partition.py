"""Disjoint groups of private records, each record's place decided by the record alone.

A record's group comes from a keyed hash of its own content (the key is secret and random per run), so
adding or removing one record changes one group and leaves every other group as it was: the property
the vote aggregation's sensitivity rests on. The number of groups is configuration, never a function
of the data. Optional strata (e.g. the task's public labels) split the records further; each stratum
has its own groups and votes only for samples of that stratum, so strata compose in parallel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.conditions import ConditionSpace
from shared.records import Record

StratumOf = Callable[[Record], str | None]


@dataclass(frozen=True)
class Groups:
    """Each stratum's groups (``None`` is the only stratum when there are none); a group is the records
    its prompt shows, at most ``shots`` of them. Empty groups abstain and are not listed."""

    by_stratum: dict[str | None, list[list[Record]]]
    unused: int  # records beyond a group's shots, or in no stratum

    def members(self) -> int:
        return sum(len(g) for groups in self.by_stratum.values() for g in groups)


def _key(record: Record, salt: bytes) -> bytes:
    canonical = json.dumps(record.fields(), sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(salt, canonical, hashlib.sha256).digest()


def partition_records(
    records: Sequence[Record], *, groups: int, shots: int, salt: bytes, strata: Sequence[str] | None = None,
    stratum_of: StratumOf | None = None,
) -> Groups:
    """Place each record in one of ``groups`` groups (per stratum); a group keeps its ``shots`` records
    with the smallest keys. With ``strata``, ``stratum_of`` names a record's stratum (``None``: unused)."""
    if groups < 1 or shots < 1:
        raise ValueError(f"need groups >= 1 and shots >= 1, got {groups} and {shots}")
    if len(salt) < 16:
        raise ValueError("the partition key must have at least 16 bytes")
    names: list[str | None] = list(strata) if strata else [None]
    buckets: dict[str | None, list[list[tuple[bytes, Record]]]] = {s: [[] for _ in range(groups)] for s in names}
    unused = 0
    for record in records:
        stratum = stratum_of(record) if strata and stratum_of is not None else None
        if stratum not in buckets:
            unused += 1
            continue
        key = _key(record, salt)
        buckets[stratum][int.from_bytes(key[:8], "big") % groups].append((key, record))
    by_stratum: dict[str | None, list[list[Record]]] = {}
    for stratum, bucket_list in buckets.items():
        kept = []
        for bucket in bucket_list:
            bucket.sort(key=lambda item: item[0])
            unused += max(0, len(bucket) - shots)
            if bucket:
                kept.append([record for _, record in bucket[:shots]])
        by_stratum[stratum] = kept
    return Groups(by_stratum, unused)


def label_stratum(labels: Sequence[str]) -> StratumOf:
    """The first of ``labels`` that the record's instruction (or text) names as a whole word."""
    patterns = [(label, re.compile(rf"\b{re.escape(label)}\b", re.IGNORECASE)) for label in labels]

    def stratum_of(record: Record) -> str | None:
        where = record.instruction or record.text
        return next((label for label, pattern in patterns if pattern.search(where)), None)

    return stratum_of


def condition_stratum(space: ConditionSpace) -> StratumOf:
    """The record's combination of declared conditions, as ``ConditionSpace.describe`` names it."""
    def stratum_of(record: Record) -> str | None:
        return space.describe(tuple(sorted(record.conditions))) if record.conditions else None

    return stratum_of
