"""Tables as both nodes see them: the public schema, rows as JSON objects, and example prompts built from
nearest-neighbour rows (HARMONIC)."""

from shared.tables.rows import Row, parse_row_json, row_json
from shared.tables.schema import ColumnKind, ColumnSpec, TableSchema

__all__ = ["ColumnKind", "ColumnSpec", "Row", "TableSchema", "parse_row_json", "row_json"]
