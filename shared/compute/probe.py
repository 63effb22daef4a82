"""A short matmul probe: fp32 against bf16 at a transformer's shapes, on this machine's threads.

Flags say what a processor has, not what torch makes of it: torch 2.13's bf16 matmul runs at about 1.2
GFLOP/s on AVX2 (fp32: 50), about 2.3x fp32 with AVX-512 BF16 and about 10x with AMX. The probe measures
instead of guessing; a bf16 pass far slower than fp32 ends the probe early, so it costs well under a second.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

# (tokens, hidden, intermediate) of SmolLM2-135M's MLP: a matmul the models here really do
_SHAPE = (128, 576, 1536)
_REPEATS = 6


@dataclass(frozen=True)
class MatmulProbe:
    """Best-of-n GFLOP/s per precision; ``bf16_speedup`` is bf16-weights over fp32."""

    threads: int
    shape: tuple[int, int, int]
    fp32_gflops: float
    bf16_gflops: float
    autocast_gflops: float | None
    seconds: float

    @property
    def bf16_speedup(self) -> float:
        return self.bf16_gflops / self.fp32_gflops if self.fp32_gflops > 0 else 0.0

    @property
    def autocast_speedup(self) -> float | None:
        return None if self.autocast_gflops is None else self.autocast_gflops / self.fp32_gflops

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "bf16_speedup": round(self.bf16_speedup, 3),
                "autocast_speedup": None if self.autocast_speedup is None else round(self.autocast_speedup, 3)}


def _best_seconds(fn: Any, repeats: int, give_up_after: float | None = None) -> float:
    fn()  # warm-up: kernel selection, page faults
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
        if give_up_after is not None and best > give_up_after:
            break
    return best


@lru_cache(maxsize=1)
def probe_matmul() -> MatmulProbe:
    """Measure once per process (the thread count is the process's own)."""
    import torch

    start = time.perf_counter()
    m, k, n = _SHAPE
    flops = 2.0 * m * k * n
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(m, k, generator=generator)
    w = torch.randn(k, n, generator=generator)
    with torch.inference_mode():
        fp32 = _best_seconds(lambda: x @ w, _REPEATS)
        xb, wb = x.to(torch.bfloat16), w.to(torch.bfloat16)
        # a bf16 pass over 4x slower than fp32 is not worth finishing: the answer is fp32
        bf16 = _best_seconds(lambda: xb @ wb, _REPEATS, give_up_after=4 * fp32)
        autocast: float | None = None
        if bf16 < fp32:
            def cast() -> Any:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return x @ w
            autocast = _best_seconds(cast, _REPEATS)
    return MatmulProbe(threads=torch.get_num_threads(), shape=_SHAPE, fp32_gflops=flops / fp32 / 1e9,
                       bf16_gflops=flops / bf16 / 1e9,
                       autocast_gflops=None if autocast is None else flops / autocast / 1e9,
                       seconds=time.perf_counter() - start)
