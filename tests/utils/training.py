"""Helpers for training tests on the tiny model."""

from __future__ import annotations

from typing import Any

from shared.lora import LoraSpec
from shared.records import Record
from shared.training import TrainConfig

TINY_LORA = LoraSpec(r=2, alpha=4, target_modules=("q_proj", "v_proj"))


def tiny_records(n: int = 40) -> list[Record]:
    return [Record(instruction=f"Question {i}?", response=f"Answer {i % 7}.") for i in range(n)]


def tiny_config(**overrides: object) -> TrainConfig:
    values: dict[str, object] = {"epsilon": 8.0, "epochs": 1, "batch_size": 8, "lora": TINY_LORA,
                                 "precision": "fp32", "max_length": 160, "learning_rate": 1e-2}
    values.update(overrides)
    return TrainConfig.model_validate(values)


def clipped_adapter(per_sample: str, *, device: str = "cpu", max_physical_batch: int | None = None) -> dict[str, Any]:
    """The LoRA tensors after 3 DP steps on 24 uneven records in one per-sample mode, with every example clipped
    (max_grad_norm far below the gradients' norms) and the same seeded noise: the modes' steps compared."""
    from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
    from shared.prompts import GenerationTemplate
    from shared.training import PrivateLoraTrainer

    records = [Record(instruction=f"question {i} " * (1 + i % 4), response=f"answer {i} " * (1 + i % 3)) for i in range(24)]
    config = TrainConfig(epsilon=8.0, epochs=1, batch_size=8, max_grad_norm=0.01, learning_rate=0.05, precision="fp32",
                         device=device, per_sample=per_sample, max_physical_batch=max_physical_batch,
                         max_tokens_per_pass=0, lora=LoraSpec(r=2, target_modules=("q_proj", "v_proj")))
    result = PrivateLoraTrainer(config=config, progress=False).train(
        model=make_tiny_llama(seed=3), tokenizer=make_tiny_tokenizer(), records=records,
        template=GenerationTemplate.for_task("tests"))
    assert result.certificate.steps == 3 and result.certificate.epsilon <= 8.0
    return result.tensors


def fit_to_text(model: Any, tokenizer: Any, prompt: str, completion: str, *, steps: int) -> Any:
    """``model`` fully fine-tuned (AdamW, lr 1e-2) until it writes ``completion`` after ``prompt``; in eval mode."""
    import torch

    ids = torch.tensor([tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]])
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    labels = ids.clone()
    labels[:, :n_prompt] = -100
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
    return model.eval()
