"""Dataset storage: content-addressed, idempotent, atomic, with a fixed seeded held-out split."""

from __future__ import annotations

import pytest

from client_node.datasets import DatasetStore, Record
from shared.errors import DatasetNotFoundError, DatasetValidationError

RECORDS = [Record(instruction=f"q{i}", response=f"a{i}") for i in range(30)]


def test_add_get_and_split(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    stored = store.add(RECORDS, name="faq", task="clinic questions", holdout_fraction=0.2, seed=1)
    assert len(stored.holdout_records) == 6 and len(stored.train_records) == 24
    assert set(stored.holdout_records).isdisjoint(stored.train_records)
    again = DatasetStore(tmp_path).get(stored.dataset_id)
    assert again == stored
    assert store.add(RECORDS, name="other name", task="x") == stored  # same content, same dataset
    assert [d.dataset_id for d in store.list()] == [stored.dataset_id]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".incoming")]


def test_different_content_different_id(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    a = store.add(RECORDS, name="a", task="t")
    b = store.add(RECORDS[:-1], name="b", task="t")
    assert a.dataset_id != b.dataset_id


def test_errors(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    with pytest.raises(DatasetValidationError):
        store.add(RECORDS[:1], name="x", task="t")
    with pytest.raises(DatasetValidationError):
        store.add(RECORDS, name="x", task="  ")
    with pytest.raises(DatasetNotFoundError):
        store.get("0123456789abcdef")
    with pytest.raises(DatasetNotFoundError):
        store.get("../etc")


def test_a_table_is_stored_with_its_schema(tmp_path) -> None:
    from client_node.datasets.store import DatasetStore
    from shared.tables.schema import ColumnSpec, TableSchema

    schema = TableSchema(columns=[ColumnSpec(name="a", kind="integer"),
                                  ColumnSpec(name="y", kind="categorical", categories=["n", "p"])], label="y")
    rows = [{"a": str(i), "y": "np"[i % 2]} for i in range(20)]
    store = DatasetStore(tmp_path)
    stored = store.add_table(rows, schema, name="t", task="numbers", holdout_fraction=0.25)
    again = store.get(stored.dataset_id)
    assert again.schema == schema and again.kind == "table" and len(again.train_rows) == 15
    assert sorted(again.train_rows + again.holdout_rows, key=lambda r: int(r["a"])) == rows
    assert again.summary()["schema"]["label"] == "y" and again.summary()["kind"] == "table"
    other = TableSchema(columns=[ColumnSpec(name="a", kind="float"), schema.columns[1]], label="y")
    assert store.add_table(rows, other, name="t", task="numbers").dataset_id != stored.dataset_id
    assert store.add_table(rows, schema, name="t", task="numbers").dataset_id == stored.dataset_id


def test_conditions_and_their_domains_survive_the_disk(tmp_path) -> None:
    from shared.conditions import ConditionSpace

    space = ConditionSpace(domains={"label": ["negative", "positive"]})
    records = [Record(text=f"review {i}", conditions=(("label", ("negative", "positive")[i % 2]),)) for i in range(6)]
    store = DatasetStore(tmp_path)
    stored = store.add(records, name="reviews", task="clothing reviews", conditions=space)
    again = DatasetStore(tmp_path).get(stored.dataset_id)
    assert again.records == tuple(records) and again.conditions == space
    assert again.summary()["conditions"] == {"label": ["negative", "positive"]}
    # the same records under no declared domain are another dataset
    assert store.add(records, name="reviews", task="clothing reviews").dataset_id != stored.dataset_id
