"""resolve_compute: auto picks bf16 on a CPU only where it is native and measured faster; CUDA is checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from shared.compute import Compute, Precision, choice, resolve_compute
from shared.compute.cpu import CpuInfo
from shared.compute.probe import MatmulProbe
from shared.errors import DeviceUnavailableError


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    choice._resolve.cache_clear()
    yield
    choice._resolve.cache_clear()


def _cpu(cls: str, *flags: str) -> CpuInfo:
    return CpuInfo(model="test cpu", cores=2, flags=tuple(sorted(flags)), torch_capability="AVX512", cpu_class=cls)


def _probe(speedup: float) -> MatmulProbe:
    return MatmulProbe(threads=2, shape=(128, 576, 1536), fp32_gflops=50.0, bf16_gflops=50.0 * speedup,
                       autocast_gflops=None, seconds=0.1)


def test_avx2_computes_in_fp32_without_probing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare: an AVX2 machine; a probe that would fail the test if it ran
    monkeypatch.setattr(choice, "cpu_info", lambda: _cpu("AVX2", "avx2", "fma"))
    monkeypatch.setattr(choice, "probe_matmul", lambda: pytest.fail("probed a CPU without native bf16"))
    # Execute
    chosen = resolve_compute("cpu", "auto")
    # Assert
    assert (chosen.device, chosen.precision) == ("cpu", Precision.FP32)
    assert chosen.as_dict()["cpu_class"] == "AVX2" and "no native bf16" in chosen.reason


@pytest.mark.parametrize(("speedup", "expected"), [(2.7, Precision.BF16), (1.1, Precision.FP32), (0.3, Precision.FP32)])
def test_native_bf16_is_taken_only_when_the_probe_measures_it_faster(
        monkeypatch: pytest.MonkeyPatch, speedup: float, expected: Precision) -> None:
    monkeypatch.setattr(choice, "cpu_info", lambda: _cpu("AVX512_BF16", "avx512f", "avx512_bf16"))
    monkeypatch.setattr(choice, "probe_matmul", lambda: _probe(speedup))
    chosen = resolve_compute("cpu", "auto")
    assert chosen.precision is expected
    assert chosen.as_dict()["probe"]["bf16_speedup"] == round(speedup, 3)


def test_an_explicit_precision_is_kept_and_recorded() -> None:
    chosen = resolve_compute("cpu", "bf16-autocast")
    assert chosen.precision is Precision.BF16_AUTOCAST and chosen.load_dtype == "float32"
    assert chosen.as_dict()["requested"] == {"device": "cpu", "precision": "bf16-autocast"}
    with chosen.autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    assert resolve_compute("cpu", "bf16").load_dtype == "bfloat16"


def test_auto_on_this_machine_follows_its_flags() -> None:
    chosen = resolve_compute()
    assert chosen.device == ("cuda:0" if torch.cuda.is_available() else "cpu")
    if not chosen.is_cuda and not chosen.cpu.native_bf16:  # type: ignore[union-attr]
        assert chosen.precision is Precision.FP32


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_a_gpu_is_a_clear_error(device: str) -> None:
    with pytest.raises(DeviceUnavailableError) as caught:
        resolve_compute(device, "auto")
    assert caught.value.code == "device_unavailable" and caught.value.http_status == 422


def test_unknown_names_are_refused() -> None:
    with pytest.raises(DeviceUnavailableError):
        resolve_compute("tpu", "auto")
    with pytest.raises(ValueError):
        resolve_compute("cpu", "fp8")


def test_compute_is_frozen_and_says_why() -> None:
    chosen = Compute("cpu", Precision.FP32, "a reason")
    assert chosen.as_dict()["reason"] == "a reason" and not chosen.is_cuda and chosen.device_type == "cpu"


def test_with_kernels_held_to_avx2_the_probe_measures_bf16_slow_and_auto_picks_fp32() -> None:
    """torch, oneDNN and MKL limited to AVX2 behave as an AVX2-only CPU does (bf16 matmul about 1 GFLOP/s):
    whatever the flags say, the probe finds bf16 slower and auto computes in fp32."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2",
           "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    out = subprocess.run([str(Path(sys.executable).parent / "client-node"), "hardware", "--device", "cpu", "--json"],
                         env=env, capture_output=True, text=True, check=True)
    chosen = json.loads(out.stdout)
    assert chosen["torch_capability"] == "AVX2" and chosen["precision"] == "fp32", chosen
    if chosen["probe"] is not None:  # probed only where the flags claim native bf16
        assert chosen["probe"]["bf16_speedup"] < 1.0
