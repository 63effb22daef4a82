"""Table intake: kinds inferred and overridden, every column's domain declared (never read off the rows), every
bad cell named with its line."""

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from client_node.tables.intake import parse_table, table_format_of
from shared.errors import DatasetValidationError, TableSchemaError
from shared.tables.schema import ColumnKind

CSV = b"age,job,rate,y\n42,nurse,0.5,yes\n37,clerk,1.25,no\n51,nurse,2,no\n"
CATEGORIES = {"job": ["nurse", "clerk"], "y": ["no", "yes"]}
BOUNDS = {"age": [18, 99], "rate": [0, 5]}
DOMAIN = {"public_categories": CATEGORIES, "public_bounds": BOUNDS}


def test_kinds_are_inferred_and_cells_canonical() -> None:
    parsed = parse_table(CSV, fmt="csv", label="y", **DOMAIN)
    kinds = {c.name: c.kind for c in parsed.schema.columns}
    assert kinds == {"age": ColumnKind.INTEGER, "job": ColumnKind.CATEGORICAL, "rate": ColumnKind.FLOAT,
                     "y": ColumnKind.CATEGORICAL}
    assert parsed.schema.labels == ["no", "yes"] and parsed.schema.column("job").categories == ["nurse", "clerk"]
    assert parsed.rows[2] == {"age": "51", "job": "nurse", "rate": "2", "y": "no"} and parsed.lines_read == 3


def test_every_column_needs_a_declared_domain() -> None:
    with pytest.raises(TableSchemaError) as caught:
        parse_table(CSV, fmt="csv", label="y", public_categories={"job": ["nurse", "clerk"]})
    assert caught.value.http_status == 422
    assert caught.value.detail["undeclared"] == {"categories": ["y"], "bounds": ["age", "rate"]}


def test_overrides_columns_and_public_categories() -> None:
    parsed = parse_table(CSV, fmt="csv", label="y", kinds={"age": "categorical"},
                         public_categories={"job": ["nurse", "clerk", "driver"], "age": ["37", "42", "51"],
                                            "y": ["no", "yes"]}, columns=["job", "age", "y"])
    assert parsed.schema.names == ["job", "age", "y"] and parsed.schema.column("age").kind is ColumnKind.CATEGORICAL
    assert parsed.schema.column("job").categories == ["nurse", "clerk", "driver"]
    with pytest.raises(DatasetValidationError) as caught:
        parse_table(CSV, fmt="csv", public_categories={**CATEGORIES, "job": ["nurse"]}, public_bounds=BOUNDS)
    assert caught.value.detail["problems"][0] == {"line": 3, "column": "job", "problem": "'clerk' is not a declared category"}


def test_bad_cells_are_listed_by_line_and_column() -> None:
    with pytest.raises(DatasetValidationError) as caught:
        parse_table(b"age,y\n1,a\nx,b\n2.5,a\n", fmt="csv", label="y", kinds={"age": "integer"},
                    public_categories={"y": ["a", "b"]}, public_bounds={"age": [0, 9]})
    assert caught.value.code == "dataset_invalid" and caught.value.detail["count"] == 2
    assert [p["line"] for p in caught.value.detail["problems"]] == [3, 4]
    with pytest.raises(DatasetValidationError, match="cells"):
        parse_table(b"a,b\n1,2\n3\n", fmt="csv")
    with pytest.raises(DatasetValidationError, match="no rows"):
        parse_table(b"a,b\n", fmt="csv")
    with pytest.raises(DatasetValidationError, match="empty"):
        parse_table(b"  ", fmt="csv")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"label": "nope"}, "names no column"), ({"kinds": {"zzz": "integer"}}, "names no column"),
    ({"kinds": {"age": "date"}}, "kind must be"), ({"label": "age", "kinds": {"age": "integer"}}, "must be categorical"),
    ({"columns": ["age", "nope"]}, "no column"),
])
def test_schema_errors_have_their_code(kwargs, message) -> None:
    with pytest.raises(TableSchemaError, match=message) as caught:
        parse_table(CSV, fmt="csv", **DOMAIN, **kwargs)
    assert caught.value.code == "table_schema_invalid" and caught.value.http_status == 422


def test_a_label_needs_two_values() -> None:
    with pytest.raises(TableSchemaError, match="2 to"):
        parse_table(b"a,y\n1,x\n2,x\n", fmt="csv", label="y", public_categories={"y": ["x"]},
                    public_bounds={"a": [0, 9]})


def test_parquet_and_file_types() -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"age": [42, 37], "job": ["nurse", None], "y": ["a", "b"]}), buffer, compression="brotli")
    with pytest.raises(DatasetValidationError) as caught:  # a missing categorical cell is named
        parse_table(buffer.getvalue(), fmt="parquet", label="y", public_categories={"job": ["nurse"], "y": ["a", "b"]},
                    public_bounds={"age": [0, 99]})
    assert caught.value.detail["problems"][0] == {"line": 2, "column": "job", "problem": "empty value"}
    buffer = io.BytesIO()
    pq.write_table(pa.table({"age": [42, 37], "y": ["a", "b"]}), buffer)
    parsed = parse_table(buffer.getvalue(), fmt="parquet", label="y", public_categories={"y": ["a", "b"]},
                         public_bounds={"age": [0, 99]})
    assert parsed.rows == [{"age": "42", "y": "a"}, {"age": "37", "y": "b"}]
    with pytest.raises(DatasetValidationError, match="Parquet"):
        parse_table(b"not parquet", fmt="parquet")
    from pathlib import Path

    assert table_format_of(Path("x.parquet.brotli")) == "parquet" and table_format_of(Path("x.CSV")) == "csv"
    with pytest.raises(DatasetValidationError):
        table_format_of(Path("x.xlsx"))


def test_public_bounds_and_cuts_are_declared_and_enforced() -> None:
    parsed = parse_table(CSV, fmt="csv", **DOMAIN, public_cuts={"age": [18, 40, 65]})
    age = parsed.schema.column("age")
    assert (age.lower, age.upper, age.edges()) == (18.0, 99.0, [18, 18, 40, 65, 99])
    with pytest.raises(DatasetValidationError) as caught:
        parse_table(CSV, fmt="csv", public_categories=CATEGORIES, public_bounds={**BOUNDS, "age": [40, 99]})
    assert caught.value.detail["problems"][0]["column"] == "age" and "bounds" in caught.value.detail["problems"][0]["problem"]
    for bad in ({"job": [0, 1]}, {"age": [5, 1]}, {"nope": [0, 1]}):
        with pytest.raises(TableSchemaError):
            parse_table(CSV, fmt="csv", public_categories=CATEGORIES, public_bounds={**BOUNDS, **bad})
    for cuts in ({"age": [17, 40]}, {"age": [40, 30]}, {"age": [99]}, {"job": [1]}):
        with pytest.raises(TableSchemaError, match="cut points"):
            parse_table(CSV, fmt="csv", **DOMAIN, public_cuts=cuts)
