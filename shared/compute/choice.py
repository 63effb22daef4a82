"""``resolve_compute``: the operator's device and precision (``auto`` or explicit) made concrete."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shared.compute.cpu import CpuInfo, cpu_info
from shared.compute.precision import Precision
from shared.compute.probe import MatmulProbe, probe_matmul
from shared.errors import DeviceUnavailableError

logger = logging.getLogger(__name__)

# bf16 must beat fp32 by this much in the probe before ``auto`` takes it: below, the rounding is not paid for
BF16_MIN_SPEEDUP = 1.3


@dataclass(frozen=True)
class Compute:
    """Where models run and in what precision, and why: recorded in every run report and benchmark."""

    device: str  # "cpu", "cuda:0", ...
    precision: Precision  # never AUTO
    reason: str
    requested_device: str = "auto"
    requested_precision: str = "auto"
    cpu: CpuInfo | None = field(default=None, compare=False)
    probe: MatmulProbe | None = field(default=None, compare=False)
    gpu: str | None = None

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def device_type(self) -> str:
        return self.device.split(":", 1)[0]

    @property
    def load_dtype(self) -> str:
        """The dtype to load weights in: bfloat16 for BF16, float32 otherwise."""
        return self.precision.load_dtype

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """bf16 autocast around a forward in BF16_AUTOCAST; nothing otherwise."""
        if self.precision is Precision.BF16_AUTOCAST:
            import torch

            return torch.autocast(self.device_type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def as_dict(self) -> dict[str, Any]:
        """JSON for reports: the choice, the request, the machine's class and the probe's figures."""
        return {
            "device": self.device, "precision": self.precision.value, "reason": self.reason,
            "requested": {"device": self.requested_device, "precision": self.requested_precision},
            "cpu_class": self.cpu.cpu_class if self.cpu else None, "cpu": self.cpu.model if self.cpu else None,
            "torch_capability": self.cpu.torch_capability if self.cpu else None, "gpu": self.gpu,
            "probe": self.probe.as_dict() if self.probe else None,
        }


def _cuda_device(requested: str) -> tuple[str, str]:
    import torch

    if not torch.cuda.is_available():
        raise DeviceUnavailableError(f"device {requested!r} asked for, but torch sees no CUDA device here; "
                                     "use 'auto' or 'cpu'", detail={"device": requested, "cuda_devices": 0})
    count = torch.cuda.device_count()
    index = 0
    if ":" in requested:
        try:
            index = int(requested.split(":", 1)[1])
        except ValueError:
            raise DeviceUnavailableError(f"device {requested!r} is not 'cuda' or 'cuda:N'",
                                         detail={"device": requested}) from None
    if not 0 <= index < count:
        raise DeviceUnavailableError(f"device {requested!r} asked for, but this machine has {count} CUDA device(s)",
                                     detail={"device": requested, "cuda_devices": count})
    return f"cuda:{index}", torch.cuda.get_device_name(index)


def _auto_cpu_precision(cpu: CpuInfo) -> tuple[Precision, str, MatmulProbe | None]:
    if not cpu.native_bf16:
        return Precision.FP32, f"{cpu.cpu_class}: no native bf16, fp32", None
    probe = probe_matmul()
    speedup = probe.bf16_speedup
    if speedup >= BF16_MIN_SPEEDUP:
        return Precision.BF16, f"{cpu.cpu_class}: bf16 matmul {speedup:.1f}x fp32 in the probe", probe
    return Precision.FP32, f"{cpu.cpu_class}: bf16 only {speedup:.2f}x fp32 in the probe, fp32", probe


def resolve_compute(device: str = "auto", precision: str | Precision = "auto") -> Compute:
    """A concrete device and precision for this machine.

    Args:
        device: ``auto`` (CUDA when present, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        precision: ``auto`` (CUDA: bf16 where supported; CPU: bf16 only where native and measured at least
            ``BF16_MIN_SPEEDUP`` times fp32), or ``fp32``, ``bf16``, ``bf16-autocast``.

    Raises:
        DeviceUnavailableError: a CUDA device was asked for that this machine does not have.
        ValueError: an unknown device or precision name.
    """
    return _resolve(str(device).strip().lower(), Precision(precision))


@lru_cache(maxsize=16)
def _resolve(device: str, precision: Precision) -> Compute:
    import torch

    cpu = cpu_info()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
        requested_device = "auto"
    else:
        requested_device = device
    if device.startswith("cuda"):
        name, gpu = _cuda_device(device)
        if precision is Precision.AUTO:
            bf16 = torch.cuda.is_bf16_supported()
            chosen, reason = (Precision.BF16, f"CUDA ({gpu}): bf16") if bf16 else (Precision.FP32, f"CUDA ({gpu}): fp32")
        else:
            chosen, reason = precision, f"CUDA ({gpu}): {precision.value} as configured"
        return Compute(name, chosen, reason, requested_device, precision.value, cpu, None, gpu)
    if device != "cpu":
        raise DeviceUnavailableError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N",
                                     detail={"device": device})
    if precision is Precision.AUTO:
        chosen, reason, probe = _auto_cpu_precision(cpu)
    else:
        chosen, reason, probe = precision, f"{cpu.cpu_class}: {precision.value} as configured", None
        if chosen is not Precision.FP32 and not cpu.native_bf16:
            logger.warning("precision %s on a %s CPU without native bf16: expect it to be many times slower "
                           "than fp32", chosen.value, cpu.cpu_class)
    logger.info("compute: cpu, %s (%s)", chosen.value, reason)
    return Compute("cpu", chosen, reason, requested_device, precision.value, cpu, probe, None)
