"""The durable engine's contract runs against every row class that uses it: a bare test table, the
server's jobs and the client's runs (each in its own real SQLite database)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.database import make_sql_engine
from shared.durable import DurableWork, WorkQueue
from shared.protocol import JobState


class _Base(DeclarativeBase):
    pass


class Chore(DurableWork, _Base):
    """The smallest durable row: a key and the mixin's columns."""

    __tablename__ = "chores"
    chore_id: Mapped[str] = mapped_column(String(32), primary_key=True)


@dataclass
class Kind:
    """A queue over one row class, and how to add queued work to it."""

    queue: WorkQueue[Any]
    add: Callable[[], str]


def _chores(tmp_path) -> Kind:
    engine = make_sql_engine(f"sqlite:///{tmp_path}/chores.db", _Base.metadata)
    queue = WorkQueue(engine, Chore, Chore.chore_id)

    def add() -> str:
        key = uuid.uuid4().hex
        with Session(engine) as session:
            session.add(Chore(chore_id=key, state=JobState.QUEUED.value))
            session.commit()
        return key

    return Kind(queue, add)


def _server_jobs(tmp_path) -> Kind:
    from server_node.core.db import make_engine
    from server_node.models import ClientToken, Job

    engine = make_engine(f"sqlite:///{tmp_path}/server.db")
    with Session(engine) as session:
        session.add(ClientToken(client_id="c1", name="c1", token_sha256="0" * 64))
        session.commit()

    def add() -> str:
        key = uuid.uuid4().hex
        with Session(engine) as session:
            session.add(Job(job_id=key, owner_id="c1", request={}, state=JobState.QUEUED.value, counts={}))
            session.commit()
        return key

    return Kind(WorkQueue(engine, Job, Job.job_id), add)


def _client_runs(tmp_path) -> Kind:
    from client_node.ledger import make_engine
    from client_node.runs.tables import RunRow

    engine = make_engine(f"sqlite:///{tmp_path}/client.db")

    def add() -> str:
        key = uuid.uuid4().hex
        with Session(engine) as session:
            session.add(RunRow(run_id=key, dataset_id="d", server_url="http://x", request={},
                               state=JobState.QUEUED.value))
            session.commit()
        return key

    return Kind(WorkQueue(engine, RunRow, RunRow.run_id), add)


KINDS = {"chores": _chores, "server-jobs": _server_jobs, "client-runs": _client_runs}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest, tmp_path) -> Kind:
    return KINDS[request.param](tmp_path)
