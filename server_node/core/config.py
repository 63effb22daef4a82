"""Server settings from PRIVSYNTH_SERVER_* environment variables (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from server_node.pipeline.choices import GradingMethod, KnowledgeStart, LabelCalibration
from shared.config import ComputeSettings, default_data_dir
from shared.constants import (
    DEFAULT_BASE_MODEL,
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_EXPERT_MODEL,
    DEFAULT_MAX_LORA_RANK,
)


class ServerSettings(ComputeSettings, BaseSettings):
    """What the server hosts, where it computes, and the policy it applies to clients' adapters.

    ``device`` and ``precision`` (PRIVSYNTH_SERVER_DEVICE, PRIVSYNTH_SERVER_PRECISION) hold for generation,
    grading, rewriting, embeddings, the knowledge adapter and the vLLM launcher's dtype."""

    model_config = SettingsConfigDict(env_prefix="PRIVSYNTH_SERVER_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: default_data_dir("server"), description="database and artifacts",
                           json_schema_extra={"x-default": "$XDG_DATA_HOME/privsynth/server"})
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<data_dir>/server.db")
    base_models: list[str] = Field(default_factory=lambda: [DEFAULT_BASE_MODEL], description="model specs clients may "
                                    "train on (a JSON list)", json_schema_extra={"x-default": f'["{DEFAULT_BASE_MODEL}"]'})
    expert_model: str = Field(DEFAULT_EXPERT_MODEL, description="the grading / rewriting model")
    max_adapter_bytes: int = Field(64 * 1024 * 1024, gt=0, description="largest adapter upload (413 above)")
    max_sample_set_bytes: int = Field(32 * 1024 * 1024, gt=0, description="largest DP sample set body (JSON)")
    max_job_bytes: int = Field(8 * 1024 * 1024, gt=0, description=(
        "largest job request (JSON): a table job carries up to 4,096 DP reference rows for its prompts"))
    max_rank: int = Field(DEFAULT_MAX_LORA_RANK, gt=0, description="highest LoRA rank accepted")
    max_epsilon: float = Field(10.0, gt=0, description="adapters certifying more epsilon are refused")
    allow_non_private: bool = Field(False, description="accept epsilon = inf adapters (benchmarks only)")
    embedding_model: str | None = Field(DEFAULT_EMBEDDING_MODEL, description="near-duplicate removal; empty: exact only")
    grading_method: GradingMethod = Field(GradingMethod.LIKELIHOOD, description="likelihood or questions (see grade.py)")
    label_calibration: LabelCalibration = Field(LabelCalibration.BATCH, description=(
        "the label check's calibration: by the graded batch, or content-free (see grade.py)"))
    generation_batch_size: int = Field(16, ge=1, le=512, description="prompts decoded together")
    grading_batch_size: int = Field(16, ge=1, le=512, description="samples graded together")
    knowledge_epochs: int = Field(2, ge=1, le=100, description="knowledge adapter training (its LoRA shape is the "
                                                                   "client adapter's)")
    knowledge_start: KnowledgeStart = Field(KnowledgeStart.BASE, description=(
        "the knowledge adapter starts from fresh LoRA (base) or from the client's DP adapter (parent)"))
    knowledge_batch_size: int = Field(8, ge=1, le=512, description="knowledge adapter batch size")
    knowledge_learning_rate: float = Field(1e-3, gt=0, le=1.0, description="knowledge adapter learning rate")
    knowledge_max_length: int = Field(256, ge=32, le=8192, description="tokens per text example")
    knowledge_table_max_length: int = Field(1024, ge=32, le=8192, description="tokens per table example (k + 1 rows; run "
                                                                                     "in chunks of 8,192 tokens)")
    workers: int = Field(1, ge=0, le=64, description="job worker threads in the API process (0: run `server-node worker`)")
    worker_poll_seconds: float = Field(1.0, gt=0, description="how often an idle worker looks for queued jobs")
    heartbeat_seconds: float = Field(5.0, gt=0, description="how often a running job says it is alive")
    job_stale_seconds: float = Field(30.0, gt=0, description="a running job silent this long is requeued")
    job_max_attempts: int = Field(3, ge=1, description="starts allowed before an interrupted job fails")
    # where sampling, grading and rewriting run (server_node/inference): here, or an OpenAI-compatible engine
    inference_backend: Literal["local", "engine"] = Field("local", description="local (transformers) or engine (vLLM)")
    engine_url: str | None = Field(None, description="the engine serving the base model, e.g. http://vllm:8000")
    engine_base_model: str | None = Field(None, description="its served name for the base (default: the first it lists)")
    engine_expert_url: str | None = Field(None, description="the engine serving the expert (default: engine_url)")
    engine_expert_model: str | None = Field(None, description="its served name for the expert (default: the first it lists)")
    engine_api_key: SecretStr | None = Field(None, description="sent as a bearer token")
    engine_timeout_seconds: float = Field(300.0, gt=0, description="per request")
    engine_connect_timeout_seconds: float = Field(5.0, gt=0, description="to open a connection")
    engine_max_concurrency: int = Field(16, ge=1, le=1024, description="requests in flight per engine, all jobs together")
    engine_retries: int = Field(3, ge=0, le=20, description="for connection errors, timeouts, 429 and 502-504")
    engine_backoff_seconds: float = Field(0.5, ge=0, description="first retry delay, doubled each retry")
    engine_adapter_dir: Path | None = Field(None, description="where adapters are written for the engine to read "
                                                              "(default <data_dir>/engine-adapters)")
    engine_adapter_dir_on_engine: str | None = Field(None, description="the same folder as the engine sees it "
                                                                       "(a shared volume; default: the same path)")
    engine_adapter_loading: Literal["runtime-api", "by-path"] = Field(
        "runtime-api", description="runtime-api: vLLM's /v1/load_lora_adapter; by-path: Ray Serve LLM loads "
                                   "<base>:<name> from its dynamic_lora_loading_path (this folder)")

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
