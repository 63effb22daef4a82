"""Reading private datasets from JSONL or CSV, with validation that names every problem and its line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from shared.conditions import ConditionSpace
from shared.errors import DatasetValidationError
from shared.records import Record

DEFAULT_MAX_RECORD_CHARS = 4000
MAX_PROBLEMS_REPORTED = 20
_TEXT_FIELDS = ("instruction", "input", "response", "text")


@dataclass(frozen=True)
class IntakeReport:
    """What intake found besides the records: duplicates dropped (by line), totals."""

    lines_read: int
    records: int
    duplicate_lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedDataset:
    records: list[Record]
    report: IntakeReport
    conditions: ConditionSpace | None = None  # the declared domains every record's conditions lie in


def read_dataset(
    path: Path,
    *,
    column_map: Mapping[str, str] | None = None,
    max_record_chars: int = DEFAULT_MAX_RECORD_CHARS,
    conditions: Mapping[str, Sequence[str]] | None = None,
) -> ParsedDataset:
    """Parse a ``.jsonl`` or ``.csv`` file into records.

    Args:
        path: the file; its suffix picks the format (``.jsonl``/``.json``/``.ndjson`` or ``.csv``).
        column_map: for CSV, our field -> the file's column (e.g. ``{"instruction": "question"}``);
            unmapped fields are looked up by their own name (a condition too: ``{"label": "sentiment"}``).
        max_record_chars: records longer than this (all fields together) are refused.
        conditions: the declared domains, condition name -> its values (``{"label": ["negative",
            "positive"]}``). Every record then carries a value of each (JSONL: a ``label`` field or a
            ``conditions`` object; CSV: a column per condition); a value outside its domain, a missing one,
            or a condition nobody declared is a problem on its line. None declared: records carry none.

    Raises:
        DatasetValidationError: with ``detail["problems"]``, a list of ``{"line", "problem"}``.
    """
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".ndjson", ".json", ".csv"}:
        raise DatasetValidationError(
            f"unsupported dataset file type {suffix!r}; use .jsonl or .csv", detail={"path": str(path)}
        )
    return parse_dataset(data, fmt="csv" if suffix == ".csv" else "jsonl", column_map=column_map,
                         max_record_chars=max_record_chars, conditions=conditions)


def parse_dataset(
    data: bytes,
    *,
    fmt: str,
    column_map: Mapping[str, str] | None = None,
    max_record_chars: int = DEFAULT_MAX_RECORD_CHARS,
    conditions: Mapping[str, Sequence[str]] | None = None,
) -> ParsedDataset:
    """Parse dataset bytes (see ``read_dataset``); ``fmt`` is ``"jsonl"`` or ``"csv"``."""
    try:
        space = ConditionSpace.declared(conditions)
    except ValidationError as exc:
        message = "; ".join(e["msg"] for e in exc.errors())
        raise DatasetValidationError(f"bad condition domains: {message}",
                                     detail={"problems": [{"line": 0, "problem": message}]}) from None
    if not data.strip():
        raise DatasetValidationError("the dataset file is empty", detail={"problems": [{"line": 0, "problem": "empty file"}]})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DatasetValidationError(
            f"the dataset is not UTF-8 (byte {exc.start}, line {line}); re-save it as UTF-8",
            detail={"problems": [{"line": line, "problem": "not UTF-8"}]},
        ) from None
    rows = _jsonl_rows(text) if fmt == "jsonl" else _csv_rows(text, column_map or {}, space)
    problems: list[dict[str, object]] = []
    records: list[tuple[int, Record]] = []
    for line, row in rows:
        if isinstance(row, str):
            problems.append({"line": line, "problem": row})
            continue
        record, problem = _to_record(row, max_record_chars, space)
        if problem:
            problems.append({"line": line, "problem": problem})
        elif record is not None:
            records.append((line, record))
    if problems:
        first = problems[0]
        raise DatasetValidationError(
            f"{len(problems)} problem(s) in the dataset; first at line {first['line']}: {first['problem']}",
            detail={"problems": problems[:MAX_PROBLEMS_REPORTED], "count": len(problems)},
        )
    if not records:
        raise DatasetValidationError("the dataset holds no records", detail={"problems": [{"line": 0, "problem": "no records"}]})
    kinds = {record.is_text for _, record in records}
    if len(kinds) > 1:
        raise DatasetValidationError(
            "the dataset mixes {'text'} records with {'instruction', 'response'} records; use one kind",
            detail={"problems": [{"line": 0, "problem": "mixed record kinds"}]},
        )
    seen: set[Record] = set()
    unique: list[Record] = []
    duplicates: list[int] = []
    for line, record in records:
        if record in seen:
            duplicates.append(line)
            continue
        seen.add(record)
        unique.append(record)
    return ParsedDataset(unique, IntakeReport(lines_read=len(rows), records=len(unique), duplicate_lines=duplicates),
                         conditions=space)


def _jsonl_rows(text: str) -> list[tuple[int, dict[str, object] | str]]:
    rows: list[tuple[int, dict[str, object] | str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError as exc:
            rows.append((number, f"invalid JSON ({exc.msg})"))
            continue
        rows.append((number, value if isinstance(value, dict) else "each line must be a JSON object"))
    return rows


def _csv_rows(text: str, column_map: Mapping[str, str],
              space: ConditionSpace | None) -> list[tuple[int, dict[str, object] | str]]:
    names = space.names if space else []
    unknown = set(column_map) - set(_TEXT_FIELDS) - set(names)
    if unknown:
        raise DatasetValidationError(
            f"column map names unknown fields {sorted(unknown)}; map any of {list(_TEXT_FIELDS) + names}",
            detail={"problems": [{"line": 0, "problem": f"unknown fields {sorted(unknown)}"}]},
        )
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    wanted = {name: column_map.get(name, name) for name in _TEXT_FIELDS}
    conditions = {name: column_map.get(name, name) for name in names}
    missing_conditions = [col for col in conditions.values() if col not in columns]
    if missing_conditions:
        raise DatasetValidationError(
            f"CSV has no column(s) {missing_conditions} for the declared conditions; its columns are {columns}",
            detail={"problems": [{"line": 1, "problem": f"missing condition columns {missing_conditions}"}]},
        )
    missing = [col for name, col in column_map.items() if col not in columns]
    if missing:
        raise DatasetValidationError(
            f"CSV has no column(s) {missing}; its columns are {columns}",
            detail={"problems": [{"line": 1, "problem": f"missing columns {missing}"}]},
        )
    rows: list[tuple[int, dict[str, object] | str]] = []
    try:
        for row in reader:
            fields: dict[str, object] = {name: row.get(col) or "" for name, col in wanted.items() if col in columns}
            if conditions:
                fields["conditions"] = {name: row.get(col) or "" for name, col in conditions.items()}
            rows.append((reader.line_num, fields))
    except csv.Error as exc:
        rows.append((reader.line_num, f"bad CSV ({exc})"))
    return rows


def _conditions_of(row: Mapping[str, object], space: ConditionSpace | None) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """A row's conditions: its ``conditions`` object, and ``label`` as shorthand for the condition named so."""
    given = row.get("conditions") or {}
    if not isinstance(given, dict):
        return (), "field 'conditions' must be an object of condition -> value"
    given = dict(given)
    if row.get("label") not in (None, ""):
        if "label" in given and given["label"] != row["label"]:
            return (), "'label' and conditions.label disagree"
        given["label"] = row["label"]
    if space is None:
        if given:
            return (), (f"the record has condition(s) {sorted(given)} but no domain is declared; declare each "
                        "(--condition NAME=V1,V2 or the conditions parameter), never read off the data")
        return (), None
    conditions, problem = space.check(given)
    return conditions or (), problem


def _to_record(row: Mapping[str, object], max_chars: int,
               space: ConditionSpace | None = None) -> tuple[Record | None, str | None]:
    conditions, problem = _conditions_of(row, space)
    if problem:
        return None, problem
    values: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        value = row.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            return None, f"field {name!r} must be a string, got {type(value).__name__}"
        values[name] = value.strip()
    if values["text"] and (values["instruction"] or values["response"]):
        return None, "give either 'text' or 'instruction'/'response', not both"
    if not values["text"] and not (values["instruction"] and values["response"]):
        missing = [n for n in ("instruction", "response") if not values[n]]
        return None, f"missing field(s) {missing} (or give 'text')"
    record = Record(**values, conditions=conditions)
    if record.char_length() > max_chars:
        return None, f"record is {record.char_length()} characters, above the limit of {max_chars}"
    return record, None
