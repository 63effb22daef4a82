"""Named stages in order, each recorded in the row's checkpoints when it finishes and skipped when the
work resumes; an at-most-once stage (one that spends privacy budget) fails rather than run twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from shared.compute import release_memory
from shared.durable.control import Control
from shared.durable.faults import fault_point
from shared.errors import StageInterruptedError

T = TypeVar("T")
STARTED = "_started"  # checkpoint key: at-most-once stages begun, so a restart can tell


class Stages:
    """Runs a piece of work's stages against its recorded checkpoints and timings."""

    def __init__(self, control: Control, checkpoints: dict[str, Any] | None, timings: dict[str, float] | None) -> None:
        self.control = control
        self.checkpoints: dict[str, Any] = dict(checkpoints or {})
        self.timings: dict[str, float] = dict(timings or {})

    def done(self, name: str) -> bool:
        return name in self.checkpoints

    def run(self, name: str, work: Callable[[], T], *, total: int = 0, once: bool = False,
            interrupted: str = "", loads_models: bool = False) -> T:
        """The stage's output: recorded, or ``work()`` run now and recorded (it must be JSON-able).

        ``once``: the stage must not run twice (DP training, DP generation): if a previous attempt began
        it and did not finish, raise ``StageInterruptedError`` with ``interrupted`` as the message.
        ``loads_models``: the stage's models are gone when it ends; give their heap back (a full collection)
        before the next stage loads its own."""
        if name in self.checkpoints:
            return self.checkpoints[name]  # type: ignore[no-any-return]
        if once:
            started = list(self.checkpoints.get(STARTED, []))
            if name in started:
                raise StageInterruptedError(interrupted or f"stage {name} was interrupted and may not run again",
                                            detail={"stage": name})
            self.checkpoints[STARTED] = [*started, name]
        self.control.begin_stage(name)
        self.control.write(stage=name, progress_done=0, progress_total=total, checkpoints=dict(self.checkpoints))
        start = time.perf_counter()
        out = work()
        if loads_models:
            release_memory()
        self.checkpoints[name] = out
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)
        self.control.write(checkpoints=dict(self.checkpoints), timings=dict(self.timings))
        fault_point("after", name)
        return out
