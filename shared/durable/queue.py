"""A queue of durable work over any ``DurableWork`` row class: claim, heartbeat, write, cancel, finish,
recover. Every state change is one conditional UPDATE, so several workers (threads or processes) sharing
the database run each piece of work once.

    queued -> running -> succeeded | failed | cancelled       (queued -> cancelled directly)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from shared.durable.row import DurableWork
from shared.errors import JobInterruptedError, SynthError
from shared.protocol import JobState

Row = TypeVar("Row", bound=DurableWork)
TERMINAL = tuple(s.value for s in JobState if s.terminal)


class WorkQueue(Generic[Row]):
    """``row`` is the table's class, ``key`` its primary-key attribute (``Job.job_id``)."""

    def __init__(self, engine: Engine, row: type[Row], key: InstrumentedAttribute[str]) -> None:
        self.engine, self.row, self.key = engine, row, key

    # --- the owner's side --------------------------------------------------------------------------

    def get(self, key: str) -> Row | None:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.scalar(select(self.row).where(self.key == key))

    def page(self, *, limit: int, offset: int, where: Any = None) -> tuple[list[Row], int]:
        """Newest first, and how many there are in all."""
        query = select(self.row) if where is None else select(self.row).where(where)
        with Session(self.engine, expire_on_commit=False) as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(self.row.created_at.desc()).limit(limit).offset(offset)).all()
            return list(rows), int(total)

    def request_cancel(self, key: str, *, already_finished: Callable[[str], SynthError]) -> None:
        """Queued work is cancelled at once; running work at its next boundary. Raises
        ``already_finished(state)`` when it has ended."""
        with Session(self.engine) as session:
            cancelled = session.execute(update(self.row).where(self.key == key, self.row.state == JobState.QUEUED.value)
                                        .values(state=JobState.CANCELLED.value, cancel_requested=True)).rowcount
            if not cancelled:
                flagged = session.execute(update(self.row).where(self.key == key, self.row.state.not_in(TERMINAL))
                                          .values(cancel_requested=True)).rowcount
                if not flagged:
                    state = session.scalar(select(self.row.state).where(self.key == key))
                    raise already_finished(str(state))
            session.commit()

    # --- the worker's side -------------------------------------------------------------------------

    def claim(self, worker_id: str) -> str | None:
        """Move the oldest queued work to running for this worker; its key, or None."""
        with Session(self.engine) as session:
            for key in session.scalars(select(self.key).where(self.row.state == JobState.QUEUED.value)
                                       .order_by(self.row.created_at).limit(5)):
                claimed = session.execute(
                    update(self.row).where(self.key == key, self.row.state == JobState.QUEUED.value)
                    .values(state=JobState.RUNNING.value, worker=worker_id, heartbeat=time.time(), error=None,
                            attempts=func.coalesce(self.row.attempts, 0) + 1)).rowcount
                session.commit()
                if claimed:
                    return str(key)
        return None

    def heartbeat(self, key: str, worker_id: str) -> bool:
        """Refresh the heartbeat; False when the work is no longer this worker's running work."""
        with Session(self.engine) as session:
            done = session.execute(update(self.row).where(self.key == key, self.row.worker == worker_id,
                                                          self.row.state == JobState.RUNNING.value)
                                   .values(heartbeat=time.time())).rowcount
            session.commit()
        return bool(done)

    def write(self, key: str, **values: Any) -> bool:
        """Write fields of running work (and refresh its heartbeat); returns whether a cancel was asked."""
        with Session(self.engine) as session:
            if values:
                session.execute(update(self.row).where(self.key == key, self.row.state.not_in(TERMINAL))
                                .values(heartbeat=time.time(), **values))
                session.commit()
            return bool(session.scalar(select(self.row.cancel_requested).where(self.key == key)))

    def finish(self, key: str, state: JobState, *, error: SynthError | None = None, **values: Any) -> None:
        """Move work to a terminal state (never overwrites one already terminal)."""
        body = error.to_body()["error"] if error is not None else None
        with Session(self.engine) as session:
            session.execute(update(self.row).where(self.key == key, self.row.state.not_in(TERMINAL))
                            .values(state=state.value, error=body, worker=None, **values))
            session.commit()

    def requeue(self, key: str, worker_id: str) -> None:
        """Give running work back on a clean shutdown (this attempt does not count)."""
        with Session(self.engine) as session:
            session.execute(update(self.row).where(self.key == key, self.row.worker == worker_id,
                                                   self.row.state == JobState.RUNNING.value)
                            .values(state=JobState.QUEUED.value, worker=None,
                                    attempts=case((self.row.attempts > 0, self.row.attempts - 1), else_=0)))
            session.commit()

    def recover_stale(self, *, stale_after: float, max_attempts: int,
                      dead: Callable[[str | None], bool] = lambda _: False) -> list[str]:
        """Requeue running work whose worker went silent or is known ``dead`` (it resumes after its last
        checkpoint); cancel it if a cancel was asked; fail it once it has been started ``max_attempts`` times."""
        cutoff = time.time() - stale_after
        touched = []
        with Session(self.engine) as session:
            running = session.scalars(select(self.row).where(self.row.state == JobState.RUNNING.value)).all()
            stale = [w for w in running if w.heartbeat is None or w.heartbeat < cutoff or dead(w.worker)]
            for work in stale:
                touched.append(str(getattr(work, self.key.key)))
                if work.cancel_requested:
                    work.state, work.worker = JobState.CANCELLED.value, None
                elif (work.attempts or 0) >= max_attempts:
                    error = JobInterruptedError(
                        f"interrupted {work.attempts} times (its worker stopped while it ran); giving up",
                        detail={"attempts": work.attempts, "stage": work.stage})
                    work.state, work.worker, work.error = JobState.FAILED.value, None, error.to_body()["error"]
                else:
                    work.state, work.worker = JobState.QUEUED.value, None
            session.commit()
        return touched
