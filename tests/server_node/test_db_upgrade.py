"""A server database made before sample sets is upgraded in place at start, its jobs kept."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from server_node.core.db import make_engine

OLD_JOBS = """CREATE TABLE jobs (job_id VARCHAR(32) NOT NULL PRIMARY KEY, owner_id VARCHAR(32) NOT NULL
REFERENCES client_tokens (client_id), adapter_id VARCHAR(32) NOT NULL REFERENCES adapters (adapter_id),
request JSON NOT NULL, state VARCHAR(16) NOT NULL, stage VARCHAR(16), progress_done INTEGER NOT NULL,
progress_total INTEGER NOT NULL, counts JSON NOT NULL, timings JSON NOT NULL, checkpoints JSON NOT NULL,
samples_sha256 VARCHAR(64), adapter_sha256 VARCHAR(64), error JSON, cancel_requested BOOLEAN NOT NULL,
attempts INTEGER NOT NULL, worker VARCHAR(64), heartbeat FLOAT, created_at DATETIME NOT NULL,
updated_at DATETIME NOT NULL)"""


def test_old_jobs_table_is_rebuilt_with_its_rows(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/server.db"
    make_engine(url).dispose()
    raw = create_engine(url)
    with raw.begin() as c:
        c.execute(text("DROP TABLE jobs"))
        c.execute(text(OLD_JOBS))
        c.execute(text("INSERT INTO client_tokens (client_id, name, token_sha256, created_at) VALUES "
                       "('c', 'n', 'h', '2026-01-01')"))
        c.execute(text("INSERT INTO adapters (adapter_id, owner_id, sha256, kind, base_model, lora, certificate, "
                       "size_bytes, created_at) VALUES ('a', 'c', 's', 'dp', 'm', '{}', '{}', 1, '2026-01-01')"))
        c.execute(text("INSERT INTO jobs VALUES ('j', 'c', 'a', '{}', 'queued', NULL, 0, 0, '{}', '{}', '{}', NULL, "
                       "NULL, NULL, 0, 0, NULL, NULL, '2026-01-01', '2026-01-01')"))
    raw.dispose()
    engine = make_engine(url)
    columns = {c["name"]: c for c in inspect(engine).get_columns("jobs")}
    assert "sample_set_id" in columns and columns["adapter_id"]["nullable"]
    with engine.begin() as c:
        assert c.execute(text("SELECT job_id, adapter_id, state FROM jobs")).all() == [("j", "a", "queued")]
        c.execute(text("INSERT INTO jobs (job_id, owner_id, adapter_id, request, state, progress_done, progress_total, "
                       "counts, timings, checkpoints, cancel_requested, attempts, created_at, updated_at) VALUES "
                       "('k', 'c', NULL, '{}', 'queued', 0, 0, '{}', '{}', '{}', 0, 0, '2026-01-01', '2026-01-01')"))
    assert make_engine(url) is not None  # a second start finds nothing to do
