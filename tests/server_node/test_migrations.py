"""The server's database by Alembic revisions: a new one matches the models; one made before migrations,
even before sample sets, is brought up and stamped by its shape, its rows kept; a second start is a no-op."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from server_node.core.db import Base, make_engine

OLD_JOBS = """CREATE TABLE jobs (job_id VARCHAR(32) NOT NULL PRIMARY KEY, owner_id VARCHAR(32) NOT NULL
REFERENCES client_tokens (client_id), adapter_id VARCHAR(32) NOT NULL REFERENCES adapters (adapter_id),
request JSON NOT NULL, state VARCHAR(16) NOT NULL, stage VARCHAR(16), progress_done INTEGER NOT NULL,
progress_total INTEGER NOT NULL, counts JSON NOT NULL, timings JSON NOT NULL, checkpoints JSON NOT NULL,
samples_sha256 VARCHAR(64), adapter_sha256 VARCHAR(64), error JSON, cancel_requested BOOLEAN NOT NULL,
attempts INTEGER NOT NULL, worker VARCHAR(64), heartbeat FLOAT, created_at DATETIME NOT NULL,
updated_at DATETIME NOT NULL)"""


def _revision(engine) -> str | None:
    with engine.connect() as c:
        return MigrationContext.configure(c).get_current_revision()


def test_a_new_database_is_at_head_and_matches_the_models(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/server.db")
    assert _revision(engine) == "0001"
    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []


def test_a_database_from_before_migrations_and_sample_sets_is_upgraded_with_its_rows(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/server.db"
    raw = create_engine(url)
    with raw.begin() as c:  # the shape the first releases made: no sample sets, no alembic_version
        c.execute(text("CREATE TABLE client_tokens (client_id VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(200) "
                       "NOT NULL UNIQUE, token_sha256 VARCHAR(64) NOT NULL, created_at DATETIME NOT NULL)"))
        c.execute(text("CREATE TABLE adapters (adapter_id VARCHAR(32) NOT NULL PRIMARY KEY, owner_id VARCHAR(32) "
                       "NOT NULL, sha256 VARCHAR(64) NOT NULL, kind VARCHAR(16) NOT NULL, base_model VARCHAR(512) "
                       "NOT NULL, lora JSON NOT NULL, certificate JSON NOT NULL, size_bytes INTEGER NOT NULL, "
                       "created_at DATETIME NOT NULL)"))
        c.execute(text(OLD_JOBS))
        c.execute(text("INSERT INTO client_tokens VALUES ('c', 'n', 'h', '2026-01-01')"))
        c.execute(text("INSERT INTO adapters VALUES ('a', 'c', 's', 'dp', 'm', '{}', '{}', 1, '2026-01-01')"))
        c.execute(text("INSERT INTO jobs VALUES ('j', 'c', 'a', '{}', 'queued', NULL, 0, 0, '{}', '{}', '{}', NULL, "
                       "NULL, NULL, 0, 0, NULL, NULL, '2026-01-01', '2026-01-01')"))
    raw.dispose()
    engine = make_engine(url)
    assert _revision(engine) == "0001"
    columns = {c["name"]: c for c in inspect(engine).get_columns("jobs")}
    assert "sample_set_id" in columns and columns["adapter_id"]["nullable"]
    assert inspect(engine).has_table("sample_sets")
    with engine.begin() as c:
        assert c.execute(text("SELECT job_id, adapter_id, state FROM jobs")).all() == [("j", "a", "queued")]
    engine.dispose()
    assert _revision(make_engine(url)) == "0001"  # a second start finds nothing to do
