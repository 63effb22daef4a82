"""Helpers for training tests on the tiny model."""

from __future__ import annotations

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
