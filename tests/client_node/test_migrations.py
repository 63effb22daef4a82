"""The client's database by Alembic revisions: a new one matches the models; one made before migrations
(2c08c05's shape, or older runs without the sample-set columns) is stamped by its shape and upgraded to
the durable engine's columns with its rows and ledger kept."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from client_node.ledger import PrivacyLedger, make_engine
from client_node.ledger.db import Base
from client_node.migrations import baseline
from client_node.runs.store import get_run, run_queue


def _revision(engine) -> str | None:
    with engine.connect() as c:
        return MigrationContext.configure(c).get_current_revision()


def test_a_new_database_is_at_head_and_matches_the_models(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/client.db")
    assert _revision(engine) == "0002"
    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []


@pytest.mark.parametrize("without_sample_set_columns", [False, True], ids=["2c08c05", "before-sample-sets"])
def test_a_database_from_before_migrations_is_upgraded_with_its_runs_and_ledger(tmp_path,
                                                                                 without_sample_set_columns) -> None:
    url = f"sqlite:///{tmp_path}/client.db"
    raw = create_engine(url)
    baseline.metadata.create_all(raw)
    with raw.begin() as c:
        if without_sample_set_columns:
            for column in ("training", "sample_set_sha256", "server_sample_set_id"):
                c.execute(text(f"ALTER TABLE runs DROP COLUMN {column}"))
        c.execute(text("INSERT INTO privacy_budgets VALUES ('ds', 8.0, 1e-5, '2026-01-01')"))
        c.execute(text("INSERT INTO runs (run_id, dataset_id, server_url, request, state, progress_done, "
                       "progress_total, timings, created_at, updated_at) VALUES ('r', 'ds', 'http://s', '{}', "
                       "'queued', 0, 0, '{}', '2026-01-01', '2026-01-01')"))
        # one run past its DP step and upload, one cut off in its DP step
        c.execute(text("INSERT INTO runs (run_id, dataset_id, server_url, request, state, stage, progress_done, "
                       "progress_total, timings, adapter_sha256, server_adapter_id, created_at, updated_at) VALUES "
                       "('up', 'ds', 'http://s', '{}', 'running', 'server', 0, 0, '{}', :sha, 'ad1', '2026-01-01', "
                       "'2026-01-01')"), {"sha": "a" * 64})
        c.execute(text("INSERT INTO runs (run_id, dataset_id, server_url, request, state, stage, progress_done, "
                       "progress_total, timings, created_at, updated_at) VALUES ('cut', 'ds', 'http://s', '{}', "
                       "'running', 'training', 3, 9, '{}', '2026-01-01', '2026-01-01')"))
    raw.dispose()
    engine = make_engine(url)
    assert _revision(engine) == "0002"
    run = get_run(engine, "r")
    assert run.state == "queued" and run.attempts == 0 and run.checkpoints == {} and not run.cancel_requested
    # runs recorded before checkpoints resume from what their finished steps left; a cut DP step never reruns
    assert get_run(engine, "up").checkpoints == {"training": "a" * 64,
                                                 "uploading": {"adapter_id": "ad1", "sample_set_id": None}}
    assert get_run(engine, "cut").checkpoints == {"_started": ["training"]}
    assert run_queue(engine).claim("w") == "r"  # the engine works on the upgraded row
    assert PrivacyLedger(engine).status("ds").epsilon_budget == 8.0
    engine.dispose()
    assert _revision(make_engine(url)) == "0002"


def test_processes_opening_a_new_database_at_once_all_find_it_built(tmp_path) -> None:
    """A CLI command beside a starting run, both on a new SQLite file: without the migration lock one of
    them failed half-way through building it (2 of 12 measured)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).parent / "client-node")
    for attempt in range(4):
        env = {**os.environ, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / f"client{attempt}")}
        procs = [subprocess.Popen([exe, "runs", "list", "--json"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], [err[-500:] for _, err in outs]
        assert all(out.strip() == "[]" for out, _ in outs)
