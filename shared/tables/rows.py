"""Rows as the model reads and writes them: one JSON object, every value a string (HARMONIC).

Training shuffles the key order per example so the model does not learn one fixed order; parsing takes
the first JSON object in generated text, and checking names every problem of a parsed row.
"""

from __future__ import annotations

import json
import math
import random
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


def parse_row_json(text: str) -> Row | None:
    """The first JSON object in ``text`` as a row of strings; ``None`` when there is none or it nests."""
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if not isinstance(value, dict) or any(isinstance(v, dict | list) for v in value.values()):
            return None
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    return None


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
