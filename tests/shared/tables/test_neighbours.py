"""HARMONIC examples: k nearest rows as the prompt, the row as the answer; who may be a neighbour."""

import json
import random

from shared.tables.neighbours import RowEncoder, nearest, table_examples
from shared.tables.rows import parse_row_json
from shared.tables.schema import ColumnSpec, TableSchema

SCHEMA = TableSchema(columns=[ColumnSpec(name="x", kind="integer"), ColumnSpec(name="c", kind="categorical"),
                              ColumnSpec(name="y", kind="categorical", categories=["a", "b"])], label="y")


def _rows(n: int = 30) -> list[dict[str, str]]:
    return [{"x": str(i), "c": "low" if i < n // 2 else "high", "y": "a" if i < n // 2 else "b"} for i in range(n)]


def test_encoder_one_hot_and_standardized() -> None:
    rows = _rows(4)
    encoder = RowEncoder(SCHEMA).fit(rows)
    vectors = encoder.transform(rows + [{"x": "1", "c": "unseen", "y": "a"}])
    assert vectors.shape == (5, 3) and abs(vectors[:4, 0].mean()) < 1e-9
    assert vectors[4, 1:].tolist() == [0.0, 0.0]  # an unseen category encodes as zeros
    assert RowEncoder(SCHEMA, include_label=True).fit(rows).width == 5
    assert nearest(vectors[:4], vectors[:1], 2)[0].tolist() == [0, 1]


def test_private_neighbours_never_include_the_row_itself() -> None:
    rows = _rows()
    examples = table_examples(rows, rows, SCHEMA, k=3, rng=random.Random(0), pool_is_targets=True, empty_share=0.0)
    assert len(examples.records) == len(rows) and examples.empty == 0
    for record in examples.records:
        target = parse_row_json(record.response)
        shown = [parse_row_json(line) for line in record.instruction.splitlines()]
        assert len(shown) == 3 and target not in shown
        assert all(abs(int(s["x"]) - int(target["x"])) <= 3 for s in shown)  # the nearest ones
        assert list(json.loads(record.response)) == list(json.loads(record.instruction.splitlines()[0]))  # one key order


def test_label_consistency_filter_and_empty_examples() -> None:
    rows = _rows()
    flipped = [{**r, "y": "b" if r["y"] == "a" else "a"} if i == 3 else r for i, r in enumerate(rows)]
    examples = table_examples(flipped, flipped, SCHEMA, k=4, rng=random.Random(0), pool_is_targets=True, empty_share=0.0)
    assert examples.dropped_inconsistent == 1 and len(examples.records) == len(rows) - 1
    bare = table_examples(rows, rows, SCHEMA, k=4, rng=random.Random(0), pool_is_targets=True, empty_share=1.0)
    assert bare.empty == len(rows) and all(r.instruction == "" for r in bare.records)


def test_a_reference_pool_keeps_one_private_row_per_example() -> None:
    """The DP construction: neighbours come from the pool only (same label), so each private row sits in
    exactly one example, its own."""
    private = _rows()
    pool = [{"x": str(100 + i), "c": "mid", "y": "a" if i % 2 else "b"} for i in range(40)]
    examples = table_examples(private, pool, SCHEMA, k=5, rng=random.Random(1), same_label=True,
                              label_consistency=False, empty_share=0.2)
    assert len(examples.records) == len(private)
    private_json = {json.dumps(r, sort_keys=True) for r in private}
    for record, row in zip(examples.records, private, strict=True):
        assert parse_row_json(record.response) == row
        for line in record.instruction.splitlines():
            shown = parse_row_json(line)
            assert json.dumps(shown, sort_keys=True) not in private_json and shown["y"] == row["y"]
