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
