"""The GPU benchmark's own code path at tiny shapes on the CPU: every training mode and generator runs, and
the rows carry the ratios the issue's goals are stated in (the figures themselves need a CUDA machine)."""

from __future__ import annotations

from bench.gpu import MODES, GpuSettings, run_gpu


def test_the_tiny_form_measures_every_mode_and_generator() -> None:
    result = run_gpu(GpuSettings.quick().model_copy(update={"steps": 1}))
    training, generation = result["training"], result["generation"]
    assert [r["mode"] for r in training] == list(MODES) and all(r["tokens_per_s"] > 0 for r in training)
    assert all(r["time_vs_non_dp"] > 0 for r in training[1:]) and training[0]["precision"] == "fp32"
    assert [r["generator"] for r in generation] == ["transformers generate", "ours, growing cache", "ours, static cache"]
    assert all(r["new_tokens"] == 8 and r["tokens_per_s"] > 0 for r in generation) and generation[0]["vs_generate"] == 1.0
    assert result["machine"]["cpu_class"] and result["gpu"] is None
