"""Server settings from PRIVSYNTH_SERVER_* environment variables (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import default_data_dir
from shared.constants import DEFAULT_BASE_MODEL, DEFAULT_EXPERT_MODEL, DEFAULT_MAX_LORA_RANK


class ServerSettings(BaseSettings):
    """What the server hosts and the policy it applies to clients' adapters."""

    model_config = SettingsConfigDict(env_prefix="PRIVSYNTH_SERVER_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: default_data_dir("server"), description="database and artifacts")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<data_dir>/server.db")
    base_models: list[str] = Field(default_factory=lambda: [DEFAULT_BASE_MODEL], description="model specs clients may train on")
    expert_model: str = Field(DEFAULT_EXPERT_MODEL, description="the grading / rewriting model")
    max_adapter_bytes: int = Field(64 * 1024 * 1024, gt=0)
    max_rank: int = Field(DEFAULT_MAX_LORA_RANK, gt=0)
    max_epsilon: float = Field(10.0, gt=0, description="adapters certifying more epsilon are refused")
    allow_non_private: bool = Field(False, description="accept epsilon = inf adapters (benchmarks only)")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'server.db'}"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"


@lru_cache(maxsize=1)
def get_settings() -> ServerSettings:
    """The process-wide server settings (tests override the dependency)."""
    return ServerSettings()
