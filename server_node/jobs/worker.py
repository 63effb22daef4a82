"""JobWorker: a thread that claims queued jobs from the database and runs them, off the event loop.

Several workers (threads here, or processes started with ``server-node worker``) may share one
database: claiming is a conditional UPDATE, so each job runs once. A heartbeat marks the job alive;
any worker requeues (or fails) jobs whose heartbeat went stale, which is how a job interrupted by
kill -9 is picked up again after a restart.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from server_node.jobs.runner import JobContext, run_job
from server_node.jobs.store import claim_next, heartbeat, recover_stale, requeue

logger = logging.getLogger(__name__)


class JobWorker:
    """Polls for work every ``poll_interval`` seconds until stopped."""

    def __init__(self, ctx: JobContext, *, name: str | None = None) -> None:
        self.ctx = ctx
        self.worker_id = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=f"job-worker-{self.worker_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to stop; a running job is left for the next start (it resumes from its checkpoint)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # --- the loop -------------------------------------------------------------------------------

    def run_forever(self) -> None:
        settings = self.ctx.settings
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the database was briefly unavailable, for example: keep serving
                logger.exception("worker %s: loop error", self.worker_id)
                worked = False
            if not worked:
                self._stop.wait(settings.worker_poll_seconds)

    def run_once(self) -> bool:
        """Recover stale jobs, then claim and run one job; False when there was nothing to do."""
        settings = self.ctx.settings
        for job_id in recover_stale(self.ctx.engine, stale_after=settings.job_stale_seconds,
                                    max_attempts=settings.job_max_attempts):
            logger.warning("worker %s: recovered interrupted job %s", self.worker_id, job_id)
        job_id = claim_next(self.ctx.engine, worker_id=self.worker_id)
        if job_id is None:
            return False
        logger.info("worker %s: running job %s", self.worker_id, job_id)
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job_id, beating), daemon=True)
        beat.start()
        try:
            state = run_job(self.ctx, job_id, stopping=lambda: self._stop.is_set())
        finally:
            beating.set()
            beat.join()
        if self._stop.is_set() and not state.terminal:
            requeue(self.ctx.engine, job_id, worker_id=self.worker_id)
        logger.info("worker %s: job %s %s", self.worker_id, job_id, state.value)
        return True

    def _heartbeat(self, job_id: str, done: threading.Event) -> None:
        while not done.wait(self.ctx.settings.heartbeat_seconds):
            if not heartbeat(self.ctx.engine, job_id, worker_id=self.worker_id):
                return
