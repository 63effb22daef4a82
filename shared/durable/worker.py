"""A worker: a thread that claims queued work and runs it with a heartbeat beside it, recovers work whose
worker went silent, and on shutdown leaves its current work for the next start."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.durable.control import Control
from shared.durable.errors import Cancelled, Stopping
from shared.durable.queue import WorkQueue
from shared.errors import PipelineError, SynthError
from shared.protocol import JobState

logger = logging.getLogger(__name__)

Run = Callable[[str, Control], None]  # runs (or resumes) one claimed piece of work to its end
_LIVE: set[str] = set()  # this process's workers


def worker_is_dead(worker_id: str | None) -> bool:
    """True only when sure: a worker of this host whose process is gone, or of this very process (a
    container restarts with the same pid) that is not one of its live workers. Others wait for staleness."""
    host, _, rest = (worker_id or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return worker_id not in _LIVE
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


@dataclass(frozen=True)
class WorkerTiming:
    poll_seconds: float = 1.0
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 30.0
    max_attempts: int = 3


def execute(queue: WorkQueue[Any], key: str, run: Run, *, stopping: Callable[[], bool] = lambda: False) -> JobState:
    """Run claimed work to a terminal state and record it; RUNNING when the worker stopped first."""
    control = Control(queue, key, stopping=stopping)
    try:
        run(key, control)
    except Stopping:
        logger.info("%s left for the next start", key)
        return JobState.RUNNING
    except Cancelled:
        queue.finish(key, JobState.CANCELLED)
        return JobState.CANCELLED
    except SynthError as exc:
        logger.warning("%s failed: %s", key, exc.message)
        queue.finish(key, JobState.FAILED, error=exc)
        return JobState.FAILED
    except Exception as exc:  # a bug or a resource failure: the work fails with a reason, the worker lives on
        logger.exception("%s failed", key)
        queue.finish(key, JobState.FAILED, error=PipelineError(f"{type(exc).__name__}: {exc}"))
        return JobState.FAILED
    queue.finish(key, JobState.SUCCEEDED, stage=None)
    return JobState.SUCCEEDED


class Worker:
    """Polls ``queue`` for work and runs it with ``run``; ``stop()`` returns within a micro-batch."""

    def __init__(self, queue: WorkQueue[Any], run: Run, *, timing: WorkerTiming = WorkerTiming(),
                 name: str | None = None) -> None:
        self.queue, self.run, self.timing = queue, run, timing
        self.worker_id = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        _LIVE.add(self.worker_id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=f"worker-{self.worker_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to stop; running work is requeued and resumes from its checkpoint next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("worker %s still busy after %.0f s; its work will be recovered when stale",
                               self.worker_id, timeout)

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the database was briefly unavailable, for example: keep serving
                logger.exception("worker %s: loop error", self.worker_id)
                worked = False
            if not worked:
                self._stop.wait(self.timing.poll_seconds)

    def run_once(self) -> bool:
        """Recover stale work, then claim and run one piece; False when there was nothing to do."""
        for key in self.queue.recover_stale(stale_after=self.timing.stale_seconds,
                                            max_attempts=self.timing.max_attempts, dead=worker_is_dead):
            logger.warning("worker %s: recovered interrupted %s", self.worker_id, key)
        key = self.queue.claim(self.worker_id)
        if key is None:
            return False
        logger.info("worker %s: running %s", self.worker_id, key)
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(key, beating), daemon=True)
        beat.start()
        try:
            state = execute(self.queue, key, self.run, stopping=self._stop.is_set)
        finally:
            beating.set()
            beat.join()
        if state is JobState.RUNNING:
            self.queue.requeue(key, self.worker_id)
        logger.info("worker %s: %s %s", self.worker_id, key, state.value)
        return True

    def _heartbeat(self, key: str, done: threading.Event) -> None:
        while not done.wait(self.timing.heartbeat_seconds):
            if not self.queue.heartbeat(key, self.worker_id):
                return
