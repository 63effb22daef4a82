"""Reading a private table (CSV or Parquet): column kinds inferred and overridable, every column's domain
declared by its owner, every bad cell named with its line.

A column is integer when every value parses as a whole number, float when every value parses as a
number, categorical otherwise; the label column is always categorical. Every categorical column needs its
public categories and every numeric one its public bounds (optionally cut points): a DP release bins and
counts over those domains, so nothing about them is read off the private rows, and an undeclared column
is refused. Cells are stored in canonical form (``shared.tables.rows.canonical_value``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.errors import DatasetValidationError, TableSchemaError
from shared.tables.rows import Row, canonical_value
from shared.tables.schema import MAX_COLUMNS, ColumnKind, ColumnSpec, TableSchema, cuts_fit

MAX_PROBLEMS_REPORTED = 20
MAX_LABELS = 100
TABLE_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class ParsedTable:
    rows: list[Row]
    schema: TableSchema
    lines_read: int


def table_format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes:
        return "parquet"
    if suffixes and suffixes[-1] == ".csv":
        return "csv"
    raise DatasetValidationError(f"unsupported table file {path.name!r}; use .csv or .parquet", detail={"path": str(path)})


def read_table(path: Path, *, label: str | None = None, kinds: Mapping[str, str] | None = None,
               public_categories: Mapping[str, Sequence[str]] | None = None,
               public_bounds: Mapping[str, Sequence[float]] | None = None,
               public_cuts: Mapping[str, Sequence[float]] | None = None,
               columns: Sequence[str] | None = None) -> ParsedTable:
    """Parse a ``.csv`` or ``.parquet`` (any compression pyarrow reads) file; see ``parse_table``."""
    return parse_table(path.read_bytes(), fmt=table_format_of(path), label=label, kinds=kinds,
                       public_categories=public_categories, public_bounds=public_bounds, public_cuts=public_cuts,
                       columns=columns)


def parse_table(
    data: bytes, *, fmt: str, label: str | None = None, kinds: Mapping[str, str] | None = None,
    public_categories: Mapping[str, Sequence[str]] | None = None,
    public_bounds: Mapping[str, Sequence[float]] | None = None,
    public_cuts: Mapping[str, Sequence[float]] | None = None, columns: Sequence[str] | None = None,
) -> ParsedTable:
    """Parse table bytes into canonical rows and their schema.

    Args:
        fmt: ``csv`` (with a header line) or ``parquet``.
        label: the label column (categorical; its declared categories are its public values).
        kinds: column -> ``categorical``/``integer``/``float``, overriding inference.
        public_categories: categorical column -> the categories the owner declares public (values outside
            are errors). Every categorical column needs them.
        public_bounds: numeric column -> ``[lower, upper]`` the owner declares public (values outside are
            errors). Every numeric column needs them.
        public_cuts: numeric column -> cut points strictly inside its bounds (default: equal bins).
        columns: keep only these columns (in this order); default all.

    Raises:
        TableSchemaError: unknown columns in the arguments, a bad label, too many columns, a column
            without a declared domain.
        DatasetValidationError: empty or unreadable data, cells not of their column's kind
            (``detail["problems"]`` lists ``{"line", "column", "problem"}``).
    """
    if fmt not in TABLE_FORMATS:
        raise DatasetValidationError(f"unsupported table format {fmt!r}; use one of {list(TABLE_FORMATS)}")
    if not data.strip():
        raise DatasetValidationError("the table file is empty", detail={"problems": [{"line": 0, "problem": "empty file"}]})
    header, cells, first_line = _parquet_cells(data) if fmt == "parquet" else _csv_cells(data)
    if columns is not None:
        unknown = [c for c in columns if c not in header]
        if unknown:
            raise TableSchemaError(f"no column(s) {unknown}; the table has {header}", detail={"columns": header})
        keep = [header.index(c) for c in columns]
        header, cells = list(columns), [[row[i] for i in keep] for row in cells]
    if not cells:
        raise DatasetValidationError("the table has no rows", detail={"problems": [{"line": 0, "problem": "no rows"}]})
    schema = infer_schema(header, cells, label=label, kinds=kinds or {}, public_categories=public_categories or {},
                          public_bounds=public_bounds or {}, public_cuts=public_cuts or {})
    problems: list[dict[str, object]] = []
    rows: list[Row] = []
    for n, raw in enumerate(cells):
        row: Row = {}
        for spec, value in zip(schema.columns, raw, strict=True):
            try:
                row[spec.name] = canonical_value(spec, value)
            except ValueError as exc:
                problems.append({"line": n + first_line, "column": spec.name, "problem": str(exc)})
                continue
            if spec.categories is not None and row[spec.name] not in spec.categories:
                problems.append({"line": n + first_line, "column": spec.name,
                                 "problem": f"{row[spec.name]!r} is not a declared category"})
            if spec.lower is not None and spec.upper is not None and not spec.lower <= float(row[spec.name]) <= spec.upper:
                problems.append({"line": n + first_line, "column": spec.name,
                                 "problem": f"{row[spec.name]} is outside the declared bounds [{spec.lower}, {spec.upper}]"})
        rows.append(row)
    if problems:
        first = problems[0]
        raise DatasetValidationError(
            f"{len(problems)} bad cell(s); first at line {first['line']}, column {first['column']!r}: {first['problem']}",
            detail={"problems": problems[:MAX_PROBLEMS_REPORTED], "count": len(problems)})
    return ParsedTable(rows, schema, lines_read=len(cells))


def infer_schema(header: Sequence[str], cells: Sequence[Sequence[object]], *, label: str | None,
                 kinds: Mapping[str, str], public_categories: Mapping[str, Sequence[str]],
                 public_bounds: Mapping[str, Sequence[float]] | None = None,
                 public_cuts: Mapping[str, Sequence[float]] | None = None) -> TableSchema:
    """Each column's kind from its values (or the override) and its declared domain.

    Raises:
        TableSchemaError: as ``parse_table``; ``detail["undeclared"]`` names the columns without a domain.
    """
    if len(header) > MAX_COLUMNS:
        raise TableSchemaError(f"the table has {len(header)} columns; at most {MAX_COLUMNS} are supported")
    if len(set(header)) != len(header) or any(not str(h).strip() for h in header):
        raise TableSchemaError("column names must be unique and non-empty", detail={"columns": list(header)})
    public_bounds, public_cuts = public_bounds or {}, public_cuts or {}
    for what, names in (("kinds", kinds), ("public_categories", public_categories), ("public_bounds", public_bounds),
                        ("public_cuts", public_cuts), ("label", [label] if label else [])):
        unknown = sorted(set(names) - set(header))
        if unknown:
            raise TableSchemaError(f"{what} names no column(s) {unknown}; the table has {list(header)}",
                                   detail={"columns": list(header)})
    specs = []
    for i, name in enumerate(header):
        values = [row[i] for row in cells]
        try:
            kind = ColumnKind(kinds[name]) if name in kinds else _inferred_kind(values)
        except ValueError:
            raise TableSchemaError(f"column {name!r}: kind must be one of {[k.value for k in ColumnKind]}") from None
        categories = [str(c).strip() for c in public_categories[name]] if name in public_categories else None
        if name == label:
            if name in kinds and kind is not ColumnKind.CATEGORICAL:
                raise TableSchemaError(f"the label column {name!r} must be categorical")
            kind = ColumnKind.CATEGORICAL
            if categories is not None and not 2 <= len(categories) <= MAX_LABELS:
                raise TableSchemaError(f"the label column {name!r} has {len(categories)} values; it needs 2 to {MAX_LABELS}",
                                       detail={"values": categories[:MAX_LABELS]})
        if categories is not None and kind is not ColumnKind.CATEGORICAL:
            raise TableSchemaError(f"column {name!r}: public categories need a categorical column")
        lower = upper = None
        if name in public_bounds:
            bounds = list(public_bounds[name])
            if not kind.numeric or len(bounds) != 2 or not float(bounds[0]) < float(bounds[1]):
                raise TableSchemaError(f"column {name!r}: public bounds are [lower, upper] of a numeric column")
            lower, upper = float(bounds[0]), float(bounds[1])
        cuts = None
        if name in public_cuts:
            cuts = [float(c) for c in public_cuts[name]]
            if lower is None or upper is None or not cuts_fit(cuts, lower, upper):
                raise TableSchemaError(f"column {name!r}: cut points increase strictly within its public bounds "
                                       "(the first may equal the lower bound)",
                                       detail={"column": name, "cuts": cuts, "bounds": [lower, upper]})
        specs.append(ColumnSpec(name=str(name), kind=kind, categories=categories, lower=lower, upper=upper, cuts=cuts))
    _refuse_undeclared(specs)
    return TableSchema(columns=specs, label=label)


def _refuse_undeclared(specs: Sequence[ColumnSpec]) -> None:
    categories = [s.name for s in specs if not s.declared and not s.kind.numeric]
    bounds = [s.name for s in specs if not s.declared and s.kind.numeric]
    if categories or bounds:
        needs = ([f"categories for {categories} (--category COLUMN=A,B,C; public_categories)"] if categories else []) + \
                ([f"bounds for {bounds} (--bounds COLUMN=LO:HI; public_bounds)"] if bounds else [])
        raise TableSchemaError(
            "declare every column's public domain (nothing about it is read off the private rows): " + "; ".join(needs),
            detail={"undeclared": {"categories": categories, "bounds": bounds}})


def _inferred_kind(values: Sequence[object]) -> ColumnKind:
    numbers = []
    for value in values:
        try:
            numbers.append(float(str(value).strip()))
        except ValueError:
            return ColumnKind.CATEGORICAL
    return ColumnKind.INTEGER if all(x.is_integer() for x in numbers) else ColumnKind.FLOAT


def _csv_cells(data: bytes) -> tuple[list[str], list[list[str]], int]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetValidationError(f"the table is not UTF-8 (byte {exc.start}); re-save it as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
        cells = []
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise DatasetValidationError(
                    f"line {reader.line_num} has {len(row)} cells; the header has {len(header)}",
                    detail={"problems": [{"line": reader.line_num, "column": None, "problem": "wrong cell count"}]})
            cells.append(row)
    except csv.Error as exc:
        raise DatasetValidationError(f"bad CSV at line {reader.line_num}: {exc}") from None
    return header, cells, 2


def _parquet_cells(data: bytes) -> tuple[list[str], list[list[object]], int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise DatasetValidationError(f"not a readable Parquet file: {exc}") from None
    header = [str(n) for n in table.column_names]
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    cells = [["" if v is None else v for v in row] for row in zip(*columns, strict=True)]
    return header, cells, 1
