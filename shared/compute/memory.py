"""Give freed memory back to the system between stages.

glibc keeps the heap a DP training step grew to (about 3 GB for a default run) after its tensors are freed,
so a client that evaluates right after training would stack the evaluation's models on top of it:
measured 3.1 GB resident after training's objects were gone, 0.6 GB after ``malloc_trim``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> None:
    """Collect garbage, empty CUDA's cache where there is one, and trim the C heap (glibc only)."""
    gc.collect()
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
