"""RunWorker: one thread that runs queued runs in order, off the event loop; resumes runs a stopped
client left running."""

from __future__ import annotations

import logging
import threading

from client_node.runs.runner import RunContext, run_run
from client_node.runs.schemas import RunState
from client_node.runs.store import claim_next, requeue_running, update_run

logger = logging.getLogger(__name__)


class RunWorker:
    def __init__(self, ctx: RunContext, *, poll_seconds: float = 0.5) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # a ledger run still open was cut off mid-release: it stays charged with what it recorded before
        # each step, and the rest of its reservation is freed
        for spend_id in self.ctx.client.ledger.fail_interrupted():
            logger.warning("ledger run %s was left open by a stopped client: closed, charged what it recorded", spend_id)
        for run_id in requeue_running(self.ctx.client.ledger.engine):
            logger.warning("resuming run %s left running by a stopped client", run_id)
        self._thread = threading.Thread(target=self._loop, name="run-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        engine = self.ctx.client.ledger.engine
        while not self._stop.is_set():
            try:
                run_id = claim_next(engine)
                if run_id is None:
                    self._stop.wait(self.poll_seconds)
                    continue
                state = run_run(self.ctx, run_id, stopping=self._stop.is_set)
                if state is RunState.RUNNING:  # stopped mid-run: resume at the next start
                    update_run(engine, run_id, state=RunState.QUEUED.value)
            except Exception:
                logger.exception("run worker loop error")
                self._stop.wait(self.poll_seconds)
