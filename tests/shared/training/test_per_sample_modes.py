"""The two ways to a DP step's clipped gradient sum, opacus' per-sample hooks and its ghost clipping, give
the same step: with clipping active and the same seeded noise, the adapters agree (also in chunks)."""

from __future__ import annotations

from shared.training.config import PerSampleMode
from tests.utils.training import clipped_adapter


def test_ghost_clipping_takes_the_same_steps_as_per_sample_hooks() -> None:
    hooks, ghost = clipped_adapter("hooks"), clipped_adapter("ghost")
    # the LoRA B factors start at zero: the steps moved them
    assert set(hooks) == set(ghost) and any(float(t.abs().max()) > 0 for name, t in hooks.items() if "lora_B" in name)
    for name in hooks:
        rel = (ghost[name] - hooks[name]).norm() / hooks[name].norm().clamp(min=1e-12)
        assert rel < 1e-4, f"{name}: relative difference {rel:.2e}"


def test_ghost_clipping_in_chunks_equals_one_pass() -> None:
    whole, chunked = clipped_adapter("ghost"), clipped_adapter("ghost", max_physical_batch=3)
    for name in whole:
        rel = (chunked[name] - whole[name]).norm() / whole[name].norm().clamp(min=1e-12)
        assert rel < 1e-4, f"{name}: relative difference {rel:.2e}"


def test_auto_picks_hooks_on_a_cpu_and_ghost_on_cuda() -> None:
    assert PerSampleMode.AUTO.for_device("cpu") is PerSampleMode.HOOKS
    assert PerSampleMode.AUTO.for_device("cuda:0") is PerSampleMode.GHOST
    assert PerSampleMode.HOOKS.for_device("cuda") is PerSampleMode.HOOKS
