"""The job state machine in the database: one claim per job, cancel, stale-job recovery and its limit."""

from __future__ import annotations

import time

from sqlalchemy import update
from sqlalchemy.orm import Session

from server_node.core.db import make_engine
from server_node.core.security import create_token
from server_node.jobs.store import (
    cancel_job,
    claim_next,
    create_job,
    finish_job,
    get_owned_job,
    recover_stale,
    requeue,
)
from server_node.models import Job, StoredAdapter
from shared.protocol import JobCreateRequest, JobState, TaskSpec


def _setup(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with Session(engine, expire_on_commit=False) as session:
        client, _ = create_token(session, name="a")
        session.add(StoredAdapter(adapter_id="ad1", owner_id=client.client_id, sha256="0" * 64, kind="dp",
                                  base_model="m", lora={}, certificate={}, size_bytes=1))
        session.commit()
        request = JobCreateRequest(adapter_id="ad1", task=TaskSpec(domain="d", description="x"))
        job = create_job(session, owner_id=client.client_id, request=request)
    return engine, client.client_id, job.job_id


def _state(engine, job_id) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        session.expunge(job)
        return job


def test_a_job_is_claimed_once(tmp_path) -> None:
    engine, _, job_id = _setup(tmp_path)
    assert claim_next(engine, worker_id="w1") == job_id
    assert claim_next(engine, worker_id="w2") is None
    job = _state(engine, job_id)
    assert job.state == "running" and job.worker == "w1" and job.attempts == 1


def test_cancel_queued_is_immediate_and_finished_jobs_stay_finished(tmp_path) -> None:
    engine, owner, job_id = _setup(tmp_path)
    with Session(engine) as session:
        assert cancel_job(session, job_id=job_id, owner_id=owner).state == "cancelled"
    assert claim_next(engine, worker_id="w1") is None
    finish_job(engine, job_id, JobState.SUCCEEDED)  # never overwrites a terminal state
    assert _state(engine, job_id).state == "cancelled"


def test_stale_running_jobs_are_requeued_then_failed_after_max_attempts(tmp_path) -> None:
    engine, owner, job_id = _setup(tmp_path)
    for attempt in (1, 2):
        assert claim_next(engine, worker_id=f"w{attempt}") == job_id
        assert recover_stale(engine, stale_after=60, max_attempts=2) == []  # heartbeat is fresh
        with Session(engine) as session:
            session.execute(update(Job).values(heartbeat=time.time() - 120))
            session.commit()
        assert recover_stale(engine, stale_after=60, max_attempts=2) == [job_id]
    job = _state(engine, job_id)
    assert job.state == "failed" and job.error["code"] == "job_interrupted" and job.attempts == 2
    with Session(engine) as session:
        assert get_owned_job(session, job_id=job_id, owner_id=owner).error["detail"]["attempts"] == 2


def test_clean_shutdown_requeues_without_spending_an_attempt(tmp_path) -> None:
    engine, _, job_id = _setup(tmp_path)
    claim_next(engine, worker_id="w1")
    requeue(engine, job_id, worker_id="w1")
    job = _state(engine, job_id)
    assert job.state == "queued" and job.attempts == 0 and job.worker is None
