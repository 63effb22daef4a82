"""The CPU class from instruction-set flags, and this machine's own reading."""

from __future__ import annotations

import pytest
import torch

from shared.compute.cpu import classify, cpu_info


@pytest.mark.parametrize(("flags", "expected"), [
    ({"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}, "AMX"),
    ({"avx2", "fma", "avx512f", "avx512_bf16"}, "AVX512_BF16"),
    ({"avx2", "fma", "avx512f"}, "AVX512"),
    ({"avx2", "fma"}, "AVX2"),
])
def test_classes_from_flags(flags: set[str], expected: str) -> None:
    assert classify(flags, "AVX2") == expected


def test_unknown_flags_fall_back_to_torchs_capability() -> None:
    assert classify(set(), "NO AVX") == "NO AVX"


def test_this_machine_is_read_consistently() -> None:
    info = cpu_info()
    assert info.torch_capability == torch.backends.cpu.get_cpu_capability()
    assert info.cpu_class == classify(set(info.flags), info.torch_capability)
    assert info.native_bf16 == any(f in info.flags for f in ("amx_bf16", "avx512_bf16", "bf16"))
    assert info.cores >= 1 and info.as_dict()["cpu_class"] == info.cpu_class
