"""release_memory gives a freed heap back to the system (glibc keeps it otherwise)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from shared.compute.memory import _libc, release_memory


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux") or _libc() is None, reason="glibc's malloc_trim")
def test_a_freed_heap_is_returned() -> None:
    # Prepare: many medium blocks, malloc'd on the heap (not mmap'd), then freed: glibc keeps the heap
    blocks = [np.ones(16 * 1024 // 8) for _ in range(20_000)]  # about 320 MiB
    before_free = _rss_mib()
    keep = blocks[-1]
    del blocks
    after_free = _rss_mib()
    # Execute
    release_memory()
    # Assert: what free() kept is gone after the trim
    after_release = _rss_mib()
    assert after_free - after_release > 200, (before_free, after_free, after_release)
    assert keep.sum() == 16 * 1024 // 8
