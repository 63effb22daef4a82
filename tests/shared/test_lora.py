"""LoraSpec validation and its peft round trip."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.lora import LoraSpec


def test_peft_round_trip() -> None:
    spec = LoraSpec(r=4, alpha=8, target_modules=("v_proj", "q_proj"))
    assert spec.target_modules == ("q_proj", "v_proj")
    assert LoraSpec.from_peft_config(spec.to_peft_config()) == spec


@pytest.mark.parametrize("targets", [(), ("q_proj", "q_proj"), ("model.*",)])
def test_rejects_bad_targets(targets) -> None:
    with pytest.raises(ValidationError):
        LoraSpec(target_modules=targets)


def test_rejects_bad_rank() -> None:
    with pytest.raises(ValidationError):
        LoraSpec(r=0)
