"""The owner's side of jobs: created queued on the caller's own adapter, cancelled, listed per tenant.
(Claiming, heartbeats and recovery are the durable engine's: tests/shared/durable runs its contract on jobs.)"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from server_node.core.db import make_engine
from server_node.core.security import create_token
from server_node.jobs.store import cancel_job, create_job, get_owned_job, job_queue, list_jobs
from server_node.models import StoredAdapter
from shared.errors import AdapterNotFoundError, JobFinishedError, JobNotFoundError
from shared.protocol import JobCreateRequest, JobState, TaskSpec

REQUEST = JobCreateRequest(adapter_id="ad1", task=TaskSpec(domain="d", description="x"))


def _setup(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with Session(engine, expire_on_commit=False) as session:
        owner, _ = create_token(session, name="a")
        other, _ = create_token(session, name="b")
        session.add(StoredAdapter(adapter_id="ad1", owner_id=owner.client_id, sha256="0" * 64, kind="dp",
                                  base_model="m", lora={}, certificate={}, size_bytes=1))
        session.commit()
        job = create_job(session, owner_id=owner.client_id, request=REQUEST)
    return engine, owner.client_id, other.client_id, job.job_id


def test_jobs_run_only_on_the_callers_adapters_and_are_seen_only_by_them(tmp_path) -> None:
    engine, owner, other, job_id = _setup(tmp_path)
    with Session(engine) as session:
        with pytest.raises(AdapterNotFoundError):
            create_job(session, owner_id=other, request=REQUEST)
        with pytest.raises(JobNotFoundError):
            get_owned_job(session, job_id=job_id, owner_id=other)
        assert list_jobs(session, owner_id=other) == ([], 0)
        rows, total = list_jobs(session, owner_id=owner)
        assert total == 1 and rows[0].job_id == job_id and rows[0].state == JobState.QUEUED.value


def test_cancel_queued_is_immediate_running_is_flagged_finished_is_refused(tmp_path) -> None:
    engine, owner, _, job_id = _setup(tmp_path)
    with Session(engine) as session:
        assert cancel_job(session, job_id=job_id, owner_id=owner).state == JobState.CANCELLED.value
        with pytest.raises(JobFinishedError):
            cancel_job(session, job_id=job_id, owner_id=owner)
        running = create_job(session, owner_id=owner, request=REQUEST).job_id
    queue = job_queue(engine)
    assert queue.claim("w1") == running
    with Session(engine) as session:
        job = cancel_job(session, job_id=running, owner_id=owner)
        assert job.state == JobState.RUNNING.value and job.cancel_requested
    assert queue.write(running, progress_done=1) is True  # the pipeline sees it at its next batch


def test_the_state_echoes_the_request_without_its_example_rows_which_the_job_keeps(tmp_path) -> None:
    from server_node.jobs.store import to_public
    from server_node.models import Job
    from shared.protocol import TableJobSettings

    engine, owner, _, _ = _setup(tmp_path)
    rows = [{"age": str(i), "pay": "low"} for i in range(500)]
    request = REQUEST.model_copy(update={"table": TableJobSettings(example_rows=rows, neighbours=3)})
    with Session(engine) as session:
        job = create_job(session, owner_id=owner, request=request)
        public = to_public(job)
        assert public.request.table.example_rows is None and public.request.table.neighbours == 3
        stored = JobCreateRequest.model_validate(session.get(Job, job.job_id).request)
        assert stored.table.example_rows == rows  # what the runner generates with
