"""The two ways to a DP step's clipped gradient sum, opacus' per-sample hooks and its ghost clipping, give
the same step: with clipping active and the same seeded noise, the adapters agree (also in chunks)."""

from __future__ import annotations

import torch

from shared.lora import LoraSpec
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import GenerationTemplate
from shared.records import Record
from shared.training import PrivateLoraTrainer, TrainConfig
from shared.training.config import PerSampleMode

RECORDS = [Record(instruction=f"question {i} " * (1 + i % 4), response=f"answer {i} " * (1 + i % 3)) for i in range(24)]


def _train(mode: str, *, max_physical_batch: int | None = None) -> dict[str, torch.Tensor]:
    # max_grad_norm well below the gradients' norms: every example is clipped, so the modes' clipping is compared
    config = TrainConfig(epsilon=8.0, epochs=1, batch_size=8, max_grad_norm=0.01, learning_rate=0.05, precision="fp32",
                         per_sample=mode, max_physical_batch=max_physical_batch, max_tokens_per_pass=0,
                         lora=LoraSpec(r=2, target_modules=("q_proj", "v_proj")))
    result = PrivateLoraTrainer(config=config, progress=False).train(
        model=make_tiny_llama(seed=3), tokenizer=make_tiny_tokenizer(), records=RECORDS,
        template=GenerationTemplate.for_task("tests"))
    assert result.certificate.steps == 3 and result.certificate.epsilon <= 8.0
    return result.tensors


def test_ghost_clipping_takes_the_same_steps_as_per_sample_hooks() -> None:
    hooks, ghost = _train("hooks"), _train("ghost")
    # the LoRA B factors start at zero: the steps moved them
    assert set(hooks) == set(ghost) and any(float(t.abs().max()) > 0 for name, t in hooks.items() if "lora_B" in name)
    for name in hooks:
        rel = (ghost[name] - hooks[name]).norm() / hooks[name].norm().clamp(min=1e-12)
        assert rel < 1e-4, f"{name}: relative difference {rel:.2e}"


def test_ghost_clipping_in_chunks_equals_one_pass() -> None:
    whole, chunked = _train("ghost"), _train("ghost", max_physical_batch=3)
    for name in whole:
        rel = (chunked[name] - whole[name]).norm() / whole[name].norm().clamp(min=1e-12)
        assert rel < 1e-4, f"{name}: relative difference {rel:.2e}"


def test_auto_picks_hooks_on_a_cpu_and_ghost_on_cuda() -> None:
    assert PerSampleMode.AUTO.for_device("cpu") is PerSampleMode.HOOKS
    assert PerSampleMode.AUTO.for_device("cuda:0") is PerSampleMode.GHOST
    assert PerSampleMode.HOOKS.for_device("cuda") is PerSampleMode.HOOKS
