"""The queue's contract: each piece of work is claimed once, cancels and finishes never overwrite an end,
silent work is recovered, a clean shutdown gives work back without counting the attempt."""

from __future__ import annotations

import threading
import time

import pytest

from shared.errors import JobFinishedError
from shared.protocol import JobState


def _finished(state: str) -> JobFinishedError:
    return JobFinishedError(f"already {state}")


def test_each_piece_is_claimed_once_across_threads(kind) -> None:
    keys = {kind.add() for _ in range(6)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all(worker: str) -> None:
        while (key := kind.queue.claim(worker)) is not None:
            with lock:
                claimed.append(key)

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(keys)
    assert all(kind.queue.get(k).attempts == 1 and kind.queue.get(k).state == "running" for k in keys)


def test_oldest_first_and_pages_newest_first(kind) -> None:
    first = kind.add()
    time.sleep(0.01)
    second = kind.add()
    rows, total = kind.queue.page(limit=1, offset=0)
    assert total == 2 and [getattr(rows[0], kind.queue.key.key)] == [second]
    assert kind.queue.claim("w") == first


def test_cancel_queued_at_once_running_at_its_next_write_finished_refused(kind) -> None:
    queued, running = kind.add(), kind.add()
    kind.queue.request_cancel(queued, already_finished=_finished)
    assert kind.queue.get(queued).state == JobState.CANCELLED.value
    assert kind.queue.claim("w") == running
    assert kind.queue.write(running, progress_done=1) is False
    kind.queue.request_cancel(running, already_finished=_finished)
    assert kind.queue.write(running, progress_done=2) is True
    kind.queue.finish(running, JobState.CANCELLED)
    with pytest.raises(JobFinishedError):
        kind.queue.request_cancel(running, already_finished=_finished)


def test_finish_never_overwrites_an_end(kind) -> None:
    key = kind.add()
    kind.queue.claim("w")
    kind.queue.finish(key, JobState.SUCCEEDED)
    kind.queue.finish(key, JobState.FAILED)
    kind.queue.write(key, stage="late")
    row = kind.queue.get(key)
    assert row.state == JobState.SUCCEEDED.value and row.stage is None and row.worker is None


def test_silent_work_is_requeued_then_failed_after_max_attempts(kind) -> None:
    key = kind.add()
    for attempt in (1, 2):
        assert kind.queue.claim(f"w{attempt}") == key
        assert kind.queue.recover_stale(stale_after=60, max_attempts=2) == []  # beating recently
        assert kind.queue.recover_stale(stale_after=-1, max_attempts=2) == [key]
    row = kind.queue.get(key)
    assert row.state == JobState.FAILED.value and row.error["code"] == "job_interrupted"


def test_silent_work_with_a_cancel_request_ends_cancelled(kind) -> None:
    key = kind.add()
    kind.queue.claim("w")
    kind.queue.request_cancel(key, already_finished=_finished)
    kind.queue.recover_stale(stale_after=-1, max_attempts=3)
    assert kind.queue.get(key).state == JobState.CANCELLED.value


def test_heartbeat_and_requeue_belong_to_the_claiming_worker(kind) -> None:
    key = kind.add()
    kind.queue.claim("w1")
    assert kind.queue.heartbeat(key, "w1") and not kind.queue.heartbeat(key, "w2")
    kind.queue.requeue(key, "w2")
    assert kind.queue.get(key).state == JobState.RUNNING.value
    kind.queue.requeue(key, "w1")
    row = kind.queue.get(key)
    assert row.state == JobState.QUEUED.value and row.attempts == 0 and row.worker is None
