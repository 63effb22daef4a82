"""Rows as JSON: canonical cells, compact objects in a given key order, tolerant parsing, named problems."""

import random

import pytest

from shared.tables.rows import canonical_value, parse_row_json, row_json, row_problems, shuffled
from shared.tables.schema import ColumnKind, ColumnSpec, TableSchema

SCHEMA = TableSchema(columns=[ColumnSpec(name="age", kind="integer", lower=0, upper=120),
                              ColumnSpec(name="job", kind="categorical"),
                              ColumnSpec(name="rate", kind="float"),
                              ColumnSpec(name="y", kind="categorical", categories=["no", "yes"])], label="y")


def test_canonical_values() -> None:
    assert canonical_value(SCHEMA.column("age"), " 42.0 ") == "42"
    assert canonical_value(SCHEMA.column("rate"), "0.1234567") == "0.123457"
    assert canonical_value(SCHEMA.column("job"), " nurse ") == "nurse"
    for spec, bad in ((SCHEMA.column("age"), "4.5"), (SCHEMA.column("age"), "x"), (SCHEMA.column("rate"), "nan"),
                      (SCHEMA.column("job"), "  ")):
        with pytest.raises(ValueError):
            canonical_value(spec, bad)


def test_row_json_is_compact_in_the_given_order_and_parses_back() -> None:
    row = {"age": "42", "job": "say \"hi\"", "rate": "0.5", "y": "no"}
    order = shuffled(SCHEMA.names, random.Random(3))
    text = row_json(row, order)
    assert " " not in text.replace('say \\"hi\\"', "") and list(parse_row_json(text)) == order
    assert parse_row_json(f"Sure! {text} and more") == row


def test_parsing_stops_at_a_repeated_key_and_refuses_nesting() -> None:
    assert parse_row_json('{"a":"1","b":2,"a":"3","c":"4"}') == {"a": "1", "b": "2"}
    assert parse_row_json('{"a": 1.5e3, "b": "x"}') == {"a": "1500.0", "b": "x"}
    assert parse_row_json('{"a":{"n":1}}') is None
    assert parse_row_json("no object") is None and parse_row_json("{}") is None
    assert parse_row_json('{"a":"1","b":"cut') == {"a": "1"}  # cut mid-value: the complete pairs only


def test_row_problems_name_each_problem() -> None:
    row, problems = row_problems({"age": "42.0", "job": "nurse", "rate": "1", "y": "yes"}, SCHEMA)
    assert problems == [] and row == {"age": "42", "job": "nurse", "rate": "1", "y": "yes"}
    row, problems = row_problems({"age": "200", "job": "nurse", "y": "maybe", "extra": "1"}, SCHEMA)
    assert row is None
    assert any("unknown column" in p for p in problems) and "rate: missing" in problems
    assert any(p.startswith("age:") and "outside" in p for p in problems)
    assert any(p.startswith("y:") and "categories" in p for p in problems)


def test_schema_rules() -> None:
    with pytest.raises(ValueError, match="unique"):
        TableSchema(columns=[ColumnSpec(name="a", kind="integer"), ColumnSpec(name="a", kind="float")])
    with pytest.raises(ValueError, match="label"):
        TableSchema(columns=[ColumnSpec(name="a", kind="integer")], label="a")
    with pytest.raises(ValueError, match="not a column"):
        TableSchema(columns=[ColumnSpec(name="a", kind="integer")], label="b")
    assert [c.name for c in SCHEMA.features] == ["age", "job", "rate"] and SCHEMA.labels == ["no", "yes"]
    assert ColumnKind.FLOAT.numeric and not ColumnKind.CATEGORICAL.numeric
