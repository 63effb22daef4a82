"""Bringing a database made before migrations up to a baseline: missing nullable columns added, rows kept."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, text

from shared.database import add_missing_columns


def test_missing_nullable_columns_are_added_and_rows_kept(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE runs (run_id VARCHAR(32) PRIMARY KEY, state VARCHAR(16))"))
        c.execute(text("INSERT INTO runs VALUES ('r', 'queued')"))
    newer = MetaData()
    Table("runs", newer, Column("run_id", String(32), primary_key=True), Column("state", String(16)),
          Column("sample_set_sha256", String(64), nullable=True), Column("tries", Integer, nullable=True))
    with engine.begin() as c:
        assert add_missing_columns(c, newer.sorted_tables) == ["runs.sample_set_sha256", "runs.tries"]
    assert {c["name"] for c in inspect(engine).get_columns("runs")} == {"run_id", "state", "sample_set_sha256", "tries"}
    with engine.begin() as c:
        assert c.execute(text("SELECT * FROM runs")).all() == [("r", "queued", None, None)]
        assert add_missing_columns(c, newer.sorted_tables) == []


def test_a_missing_not_null_column_is_a_shape_we_cannot_upgrade(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE runs (run_id VARCHAR(32) PRIMARY KEY)"))
    newer = MetaData()
    Table("runs", newer, Column("run_id", String(32), primary_key=True), Column("state", String(16), nullable=False))
    with pytest.raises(RuntimeError, match="cannot upgrade"), engine.begin() as c:
        add_missing_columns(c, newer.sorted_tables)
