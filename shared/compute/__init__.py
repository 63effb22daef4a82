"""Where and in what precision models compute: one decision per process, made from the machine it finds.

``resolve_compute(device, precision)`` turns the operator's choice (``auto`` or explicit) into a concrete
``Compute``: a torch device and a precision, with the CPU class and the reason recorded for every report.
On a CPU, ``auto`` picks bf16 only where the processor computes it natively and a short matmul probe
measures it faster than fp32 (torch's ``get_cpu_capability()`` says ``AVX512`` with and without BF16).
"""

from shared.compute.choice import Compute, DeviceUnavailableError, resolve_compute
from shared.compute.cpu import CpuInfo, cpu_info
from shared.compute.memory import release_memory
from shared.compute.precision import Precision
from shared.compute.probe import MatmulProbe, probe_matmul

__all__ = [
    "Compute",
    "CpuInfo",
    "DeviceUnavailableError",
    "MatmulProbe",
    "Precision",
    "cpu_info",
    "probe_matmul",
    "release_memory",
    "resolve_compute",
]
