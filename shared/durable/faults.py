"""A fault-injection hook for tests: ``PRIVSYNTH_FAULT`` makes the process kill itself (SIGKILL, as a crash
or an OOM kill would) at a named point of durable work, so the tests can prove that every run and job
resumes or fails cleanly after a restart.

    PRIVSYNTH_FAULT=kill-after:<stage>        once the stage's checkpoint is recorded
    PRIVSYNTH_FAULT=kill-during:<stage>:<n>   at the stage's n-th progress report (a step, a batch)

Unset in every deployment; reading it costs one environment lookup per boundary."""

from __future__ import annotations

import os
import signal

FAULT_ENV = "PRIVSYNTH_FAULT"


def fault_point(event: str, stage: str | None, count: int = 0) -> None:
    """Kill this process here if ``PRIVSYNTH_FAULT`` names this point."""
    spec = os.environ.get(FAULT_ENV)
    if not spec or stage is None:
        return
    kind, _, rest = spec.partition(":")
    target, _, at = rest.partition(":")
    if target != stage:
        return
    if (kind == "kill-after" and event == "after") or \
            (kind == "kill-during" and event == "during" and count >= int(at or 1)):
        os.kill(os.getpid(), signal.SIGKILL)
