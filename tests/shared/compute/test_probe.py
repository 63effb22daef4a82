"""The matmul probe measures both precisions on this machine, quickly."""

from __future__ import annotations

import torch

from shared.compute.probe import probe_matmul


def test_probe_measures_fp32_and_bf16_in_well_under_a_second_or_two() -> None:
    probe = probe_matmul()
    assert probe.fp32_gflops > 0 and probe.bf16_gflops > 0
    assert probe.bf16_speedup == probe.bf16_gflops / probe.fp32_gflops
    assert probe.threads == torch.get_num_threads()
    assert probe.seconds < 5.0, probe  # a slow bf16 (AVX2: about 40x fp32) ends the probe early
    figures = probe.as_dict()
    assert figures["shape"] == (128, 576, 1536) and figures["bf16_speedup"] == round(probe.bf16_speedup, 3)
