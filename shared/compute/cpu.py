"""What the processor is: its name, the instruction-set flags that decide bf16 speed, and a class label."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

# the flags that decide matmul speed per precision (lscpu / /proc/cpuinfo names)
_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16", "bf16")


@dataclass(frozen=True)
class CpuInfo:
    """``cpu_class`` is one of AMX, AVX512_BF16, AVX512, AVX2, or torch's capability name elsewhere."""

    model: str
    cores: int
    flags: tuple[str, ...]
    torch_capability: str
    cpu_class: str

    @property
    def native_bf16(self) -> bool:
        """bf16 matmuls in hardware (AMX tiles, AVX-512 BF16, Arm BF16)."""
        return any(f in self.flags for f in ("amx_bf16", "avx512_bf16", "bf16"))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_cpuinfo() -> tuple[str, set[str]]:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and value.strip():
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model, flags


def classify(flags: set[str] | tuple[str, ...], torch_capability: str) -> str:
    """The CPU class from its flags: AMX > AVX512_BF16 > AVX512 > AVX2; else torch's own name."""
    if "amx_bf16" in flags:
        return "AMX"
    if "avx512_bf16" in flags:
        return "AVX512_BF16"
    if "avx512f" in flags:
        return "AVX512"
    if "avx2" in flags:
        return "AVX2"
    return torch_capability or platform.machine()


@lru_cache(maxsize=1)
def cpu_info() -> CpuInfo:
    """This machine's processor (read once per process)."""
    import os

    import torch

    model, flags = _read_cpuinfo()
    capability = str(torch.backends.cpu.get_cpu_capability())
    kept = tuple(sorted(f for f in flags if f in _FLAGS))
    return CpuInfo(model=model, cores=os.cpu_count() or 1, flags=kept, torch_capability=capability,
                   cpu_class=classify(flags, capability))
