"""Dataset intake: JSONL and CSV, and a coded, line-numbered error for each kind of bad input."""

from __future__ import annotations

import json

import pytest

from client_node.datasets import Record, parse_dataset, read_dataset
from shared.errors import DatasetValidationError


def _jsonl(*rows: object) -> bytes:
    return "\n".join(json.dumps(r) if not isinstance(r, str) else r for r in rows).encode()


def test_jsonl_instruction_response_and_duplicates() -> None:
    data = _jsonl({"instruction": " Q1 ", "response": "A1"}, {"instruction": "Q2", "input": "ctx", "response": "A2"},
                  "", {"instruction": "Q1", "response": "A1"})
    parsed = parse_dataset(data, fmt="jsonl")
    assert parsed.records == [Record(instruction="Q1", response="A1"), Record(instruction="Q2", input="ctx", response="A2")]
    assert parsed.report.duplicate_lines == [4] and parsed.report.records == 2


def test_text_records(tmp_path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(_jsonl({"text": "one"}, {"text": "two"}))
    assert [r.text for r in read_dataset(path).records] == ["one", "two"]


def test_csv_with_column_map(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('question,answer,other\n"What, exactly?","This, with comma",x\nQ2,A2,y\n', encoding="utf-8")
    parsed = read_dataset(path, column_map={"instruction": "question", "response": "answer"})
    assert parsed.records[0] == Record(instruction="What, exactly?", response="This, with comma")
    with pytest.raises(DatasetValidationError, match="no column"):
        read_dataset(path, column_map={"instruction": "nope", "response": "answer"})


@pytest.mark.parametrize(
    ("data", "fmt", "problem"),
    [
        (b"", "jsonl", "empty"),
        (b"  \n\n", "jsonl", "empty"),
        (b'{"instruction": "caf\xe9", "response": "x"}', "jsonl", "UTF-8"),
        (b'{"instruction": "a", "response": "b"}\n{oops', "jsonl", "invalid JSON"),
        (b'["a", "b"]', "jsonl", "JSON object"),
        (b'{"instruction": "a"}', "jsonl", "missing field"),
        (b'{"instruction": 3, "response": "b"}', "jsonl", "must be a string"),
        (b'{"text": "t", "instruction": "a", "response": "b"}', "jsonl", "not both"),
        (b'{"text": "t"}\n{"instruction": "a", "response": "b"}', "jsonl", "mixes"),
        (b"instruction,response\nq,\n", "csv", "missing field"),
    ],
)
def test_bad_input_is_a_clear_error(data: bytes, fmt: str, problem: str) -> None:
    with pytest.raises(DatasetValidationError) as info:
        parse_dataset(data, fmt=fmt)
    assert problem in info.value.message or any(problem in str(p) for p in info.value.detail.get("problems", []))
    assert info.value.code == "dataset_invalid" and info.value.http_status == 422


def test_errors_carry_line_numbers_and_length_limit() -> None:
    data = _jsonl({"instruction": "a", "response": "b"}, {"instruction": "x" * 50, "response": "y"}, "{bad")
    with pytest.raises(DatasetValidationError) as info:
        parse_dataset(data, fmt="jsonl", max_record_chars=40)
    assert [p["line"] for p in info.value.detail["problems"]] == [2, 3]
    assert "above the limit of 40" in info.value.detail["problems"][0]["problem"]


def test_unsupported_suffix(tmp_path) -> None:
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(DatasetValidationError, match="unsupported"):
        read_dataset(tmp_path / "d.txt")


LABELS = {"label": ["negative", "positive"]}


def test_conditions_over_declared_domains_from_jsonl_and_csv(tmp_path) -> None:
    data = _jsonl({"text": "Lovely dress", "label": "positive", "conditions": {"item": "Tops"}},
                  {"text": "Tore at once", "conditions": {"label": "negative", "item": "Dresses"}})
    parsed = parse_dataset(data, fmt="jsonl", conditions={**LABELS, "item": ["Dresses", "Tops"]})
    first, second = parsed.records
    assert first.conditions == (("item", "Tops"), ("label", "positive"))  # 'label' is conditions.label's shorthand
    assert second.conditions == (("item", "Dresses"), ("label", "negative")) and second.condition("item") == "Dresses"
    assert parsed.conditions is not None and parsed.conditions.names == ["item", "label"]
    with pytest.raises(DatasetValidationError, match="missing condition 'item'"):
        parse_dataset(_jsonl({"text": "Lovely dress", "label": "positive"}), fmt="jsonl",
                      conditions={**LABELS, "item": ["Dresses", "Tops"]})
    path = tmp_path / "reviews.csv"
    path.write_text("review,sentiment\nFits well,positive\nToo small,negative\n")
    csv_parsed = read_dataset(path, column_map={"text": "review", "label": "sentiment"}, conditions=LABELS)
    assert [r.condition("label") for r in csv_parsed.records] == ["positive", "negative"]
    assert first.content() == "Lovely dress"  # a condition's value is not text the leakage checks look for


@pytest.mark.parametrize(("row", "conditions", "problem"), [
    ({"text": "a", "label": "neutral"}, LABELS, "outside its declared domain"),
    ({"text": "a", "label": "positive", "conditions": {"tone": "warm"}}, LABELS, "no declared domain"),
    ({"text": "a", "label": "positive"}, None, "no domain is declared"),
    ({"text": "a", "conditions": ["positive"]}, LABELS, "must be an object"),
    ({"text": "a", "label": "positive", "conditions": {"label": "negative"}}, LABELS, "disagree"),
])
def test_a_condition_outside_what_was_declared_is_a_problem_on_its_line(row, conditions, problem) -> None:
    data = _jsonl({"text": "fine", "label": "negative"} if conditions else {"text": "fine"}, row)
    with pytest.raises(DatasetValidationError, match=problem) as info:
        parse_dataset(data, fmt="jsonl", conditions=conditions)
    assert info.value.detail["problems"][0]["line"] == 2 and info.value.code == "dataset_invalid"


def test_bad_declarations_are_refused_before_any_record_is_read() -> None:
    for domains in ({"label": ["positive"]}, {"label": ["a", "a"]}, {"1abel": ["a", "b"]},
                    {f"c{i}": [str(v) for v in range(20)] for i in range(3)}):
        with pytest.raises(DatasetValidationError, match="bad condition domains"):
            parse_dataset(_jsonl({"text": "a"}), fmt="jsonl", conditions=domains)
