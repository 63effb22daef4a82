"""Rows as the model reads and writes them: one JSON object, every value a string (HARMONIC).

Training shuffles the key order per example so the model does not learn one fixed order; parsing takes
the first JSON object in generated text, and checking names every problem of a parsed row.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from shared.tables.schema import ColumnKind, ColumnSpec, TableSchema

Row = dict[str, str]
T = TypeVar("T")


def canonical_value(spec: ColumnSpec, value: object) -> str:
    """A cell as the one string the table stores: integers without a decimal point, floats in 6
    significant digits, categories stripped.

    Raises:
        ValueError: the value is not of the column's kind (or is not finite).
    """
    text = "" if value is None else str(value).strip()
    if spec.kind is ColumnKind.CATEGORICAL:
        if not text:
            raise ValueError("empty value")
        return text
    number = float(text)  # ValueError on junk
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a finite number")
    if spec.kind is ColumnKind.INTEGER:
        if not number.is_integer():
            raise ValueError(f"{text!r} is not an integer")
        return str(int(number))
    return f"{number:.6g}"


def row_json(row: Mapping[str, str], order: Sequence[str]) -> str:
    """One row as a compact JSON object with its keys in ``order`` (no spaces: about 20% fewer tokens)."""
    return json.dumps({name: str(row[name]) for name in order}, ensure_ascii=False, separators=(",", ":"))


def shuffled(items: Sequence[T], rng: random.Random) -> list[T]:
    order = list(items)
    rng.shuffle(order)
    return order


_PAIR = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([,}])')


def parse_row_json(text: str) -> Row | None:
    """The first row in ``text``: the ``"key": value`` pairs after its first ``{``, up to the closing
    brace or to where a key comes again (a model that runs on into a second row has written its row);
    ``None`` when no pair is found or a value nests."""
    start = text.find("{")
    if start == -1:
        return None
    row: Row = {}
    position = start + 1
    while True:
        match = _PAIR.match(text, position)
        if match is None:
            break
        key, raw, end = match.groups()
        try:
            key, value = json.loads(f'"{key}"'), json.loads(raw)
        except ValueError:
            return None
        if key in row:
            break
        row[key] = str(value)
        position = match.end()
        if end == "}":
            break
    return row or None


def row_problems(row: Mapping[str, str], schema: TableSchema) -> tuple[Row | None, list[str]]:
    """The row in canonical form, or the reasons it is not one of the schema's rows: missing or extra
    columns, a value not of its column's kind, outside declared categories or bounds."""
    problems = []
    extra = sorted(set(row) - set(schema.names))
    if extra:
        problems.append(f"unknown column(s) {extra}")
    out: Row = {}
    for spec in schema.columns:
        if spec.name not in row:
            problems.append(f"{spec.name}: missing")
            continue
        try:
            value = canonical_value(spec, row[spec.name])
        except ValueError as exc:
            problems.append(f"{spec.name}: {exc}")
            continue
        if spec.categories is not None and value not in spec.categories:
            problems.append(f"{spec.name}: {value!r} is not one of its categories")
        if spec.kind.numeric and ((spec.lower is not None and float(value) < spec.lower)
                                  or (spec.upper is not None and float(value) > spec.upper)):
            problems.append(f"{spec.name}: {value} is outside [{spec.lower}, {spec.upper}]")
        out[spec.name] = value
    return (out, []) if not problems else (None, problems)
