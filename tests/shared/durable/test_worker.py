"""The worker and the stage runner: stages recorded and skipped on resume, an at-most-once stage never
runs twice, cancel and shutdown honoured at a boundary, failures recorded with their code."""

from __future__ import annotations

import threading
import time

from shared.durable import Control, Stages, Worker, WorkerTiming, execute
from shared.errors import PipelineError, TrainingConfigError
from shared.protocol import JobState

FAST = WorkerTiming(poll_seconds=0.02, heartbeat_seconds=0.05, stale_seconds=30, max_attempts=3)


def _stages(kind, key: str, control: Control) -> Stages:
    row = kind.queue.get(key)
    return Stages(control, row.checkpoints, row.timings)


def test_stages_run_in_order_and_are_skipped_when_resumed(kind) -> None:
    key = kind.add()
    calls: list[str] = []
    stop_after_first = threading.Event()

    def run(k: str, control: Control) -> None:
        stages = _stages(kind, k, control)
        a = stages.run("first", lambda: calls.append("first") or {"n": 1})
        if stop_after_first.is_set():
            control.stopping = lambda: True
            control.check()
        b = stages.run("second", lambda: calls.append("second") or a["n"] + 1)
        assert b == 2

    stop_after_first.set()
    kind.queue.claim("w")
    assert execute(kind.queue, key, run) is JobState.RUNNING  # stopped between the stages
    kind.queue.requeue(key, "w")
    stop_after_first.clear()
    kind.queue.claim("w")
    assert execute(kind.queue, key, run) is JobState.SUCCEEDED
    row = kind.queue.get(key)
    assert calls == ["first", "second"] and set(row.timings) == {"first", "second"}
    assert row.checkpoints["first"] == {"n": 1} and row.state == "succeeded" and row.stage is None


def test_an_interrupted_once_stage_fails_instead_of_running_again(kind) -> None:
    key = kind.add()
    runs: list[int] = []

    def run(k: str, control: Control) -> None:
        stages = _stages(kind, k, control)

        def spend() -> int:
            runs.append(1)
            if len(runs) == 1:
                raise KeyboardInterrupt  # stands in for kill -9 in the middle of the stage
            return 1

        stages.run("dp", spend, once=True, interrupted="stopped during DP training")

    kind.queue.claim("w")
    try:
        execute(kind.queue, key, run)
    except KeyboardInterrupt:
        pass
    kind.queue.recover_stale(stale_after=-1, max_attempts=3)
    kind.queue.claim("w")
    assert execute(kind.queue, key, run) is JobState.FAILED
    row = kind.queue.get(key)
    assert runs == [1] and row.error["code"] == "stage_interrupted" and "DP training" in row.error["message"]


def test_failures_are_recorded_with_their_code(kind) -> None:
    known, bug = kind.add(), kind.add()

    def run(k: str, control: Control) -> None:
        if k == known:
            raise TrainingConfigError("batch larger than the dataset")
        raise ZeroDivisionError("oops")

    for key in (known, bug):
        kind.queue.claim("w")
        assert execute(kind.queue, key, run) is JobState.FAILED
    assert kind.queue.get(known).error["code"] == "training_config_invalid"
    assert kind.queue.get(bug).error["code"] == PipelineError.code and "ZeroDivisionError" in kind.queue.get(bug).error["message"]


def test_worker_runs_work_cancels_it_and_stops_within_a_micro_batch(kind) -> None:
    done, slow = kind.add(), kind.add()
    started = threading.Event()

    def run(k: str, control: Control) -> None:
        if k == done:
            return
        started.set()
        while True:  # a long stage checking at every micro-batch
            time.sleep(0.01)
            control.progress(1, 2)

    worker = Worker(kind.queue, run, timing=FAST, name="w")
    worker.start()
    assert started.wait(10)
    assert kind.queue.get(done).state == JobState.SUCCEEDED.value
    begin = time.monotonic()
    worker.stop(timeout=10)
    assert time.monotonic() - begin < 2
    row = kind.queue.get(slow)
    assert row.state == JobState.QUEUED.value and row.attempts == 0  # back in the queue, attempt not counted


def test_cancel_of_running_work_ends_it_cancelled(kind) -> None:
    key = kind.add()
    started = threading.Event()

    def run(k: str, control: Control) -> None:
        started.set()
        for _ in range(2000):
            time.sleep(0.005)
            control.check()

    worker = Worker(kind.queue, run, timing=FAST, name="w")
    worker.start()
    try:
        assert started.wait(10)
        kind.queue.request_cancel(key, already_finished=lambda s: RuntimeError(s))  # type: ignore[arg-type,return-value]
        deadline = time.monotonic() + 5
        while kind.queue.get(key).state != JobState.CANCELLED.value and time.monotonic() < deadline:
            time.sleep(0.02)
        assert kind.queue.get(key).state == JobState.CANCELLED.value
    finally:
        worker.stop()
