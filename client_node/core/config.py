"""Client settings from PRIVSYNTH_CLIENT_* environment variables (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import ComputeSettings, default_data_dir
from shared.constants import DEFAULT_BASE_MODEL


class ClientSettings(ComputeSettings, BaseSettings):
    """Where the client keeps private data, its ledger database, which base model it trains and where
    (``device`` and ``precision`` from ``ComputeSettings``: PRIVSYNTH_CLIENT_DEVICE, PRIVSYNTH_CLIENT_PRECISION)."""

    model_config = SettingsConfigDict(env_prefix="PRIVSYNTH_CLIENT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: default_data_dir("client"), description="datasets, adapters, runs",
                           json_schema_extra={"x-default": "$XDG_DATA_HOME/privsynth/client"})
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<data_dir>/client.db")
    base_model: str = Field(DEFAULT_BASE_MODEL, description="model spec the client fine-tunes")
    server_url: str | None = Field(None, description="the server node runs talk to (a run may name another)")
    server_token: SecretStr | None = Field(None, description="this client's bearer token on the server")
    server_ca_bundle: Path | None = Field(None, description="CA bundle for the server's TLS certificate")
    server_tls_verify: bool = Field(True, description="never switch off outside tests")
    server_timeout_seconds: float = Field(60.0, gt=0, description="per request to the server")
    api_token: SecretStr | None = Field(None, description="the operator's bearer token for the client API")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'client.db'}"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def adapters_dir(self) -> Path:
        return self.data_dir / "adapters"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"

    @property
    def tls_verify(self) -> bool | str:
        if not self.server_tls_verify:
            return False
        return str(self.server_ca_bundle) if self.server_ca_bundle else True


@lru_cache(maxsize=1)
def get_settings() -> ClientSettings:
    """The process-wide client settings (tests build their own)."""
    return ClientSettings()
