"""What running work uses to report and to be stopped: stage and progress writes (throttled), and a check
at every boundary (stage, batch, micro-batch) that raises when the owner cancelled or the worker stops."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.durable.errors import Cancelled, Stopping
from shared.durable.faults import fault_point
from shared.durable.queue import WorkQueue


class Control:
    """One per piece of running work. ``check()`` is cheap (no database) except every ``interval`` s."""

    def __init__(self, queue: WorkQueue[Any], key: str, *, stopping: Callable[[], bool] = lambda: False,
                 interval: float = 0.5) -> None:
        self.queue, self.key, self.stopping, self.interval = queue, key, stopping, interval
        self._last = 0.0
        self.current_stage: str | None = None  # set by ``Stages``; names fault-injection points
        self._reports = 0

    def begin_stage(self, name: str) -> None:
        self.current_stage, self._reports = name, 0

    def progress(self, done: int, total: int) -> None:
        """Throttled: written at most every ``interval`` seconds; checks for a stop either way."""
        self._reports += 1
        fault_point("during", self.current_stage, self._reports)
        now = time.monotonic()
        if now - self._last >= self.interval:
            self.write(progress_done=done, progress_total=total)
        else:
            self._check_stopping()

    def write(self, **values: Any) -> None:
        """Write now, then raise ``Cancelled`` or ``Stopping`` if the work should end."""
        self._last = time.monotonic()
        if self.queue.write(self.key, **values):
            raise Cancelled("cancelled by its owner")
        self._check_stopping()

    def check(self) -> None:
        """A boundary: raise if the work should end (the database is asked at most every ``interval`` s)."""
        if time.monotonic() - self._last >= self.interval:
            self.write()
        else:
            self._check_stopping()

    def _check_stopping(self) -> None:
        if self.stopping():
            raise Stopping
