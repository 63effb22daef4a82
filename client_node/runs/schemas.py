"""The client API's run schemas (the client's own API; the server protocol is in shared.protocol)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from client_node.tables.marginals import MarginalSettings
from client_node.tables.settings import TableSettings
from client_node.voting.plan import VoteNoise
from shared.compute.precision import Precision
from shared.config import DEVICE_PATTERN
from shared.lora import DEFAULT_TARGET_MODULES
from shared.mechanisms import VoteKind
from shared.protocol import ErrorInfo, JobPublic, JobState, Progress, SamplingParams

RunState = JobState  # a run has the same life as a server job: queued, running, then one terminal state


class RunStage(StrEnum):
    TRAINING = "training"
    GENERATING = "generating"  # training-free DP generation (generator "votes")
    UPLOADING = "uploading"
    SERVER = "server"  # the server's job runs; its stage and progress are mirrored
    DOWNLOADING = "downloading"
    EVALUATING = "evaluating"


class Generator(StrEnum):
    DP_LORA = "dp-lora"  # DP-SGD LoRA training; the server samples from the adapter
    VOTES = "votes"  # training-free: noisy next-token votes of record groups on the client; samples go to the server
    MARGINALS = "marginals"  # tables: AIM or MST over the declared domains, all on the client; no server, no model


class VoteSettings(BaseModel):
    """How the training-free generator votes (``generator: votes``); see ``client_node.voting``."""

    model_config = ConfigDict(extra="forbid")

    noise: VoteNoise = VoteNoise.GAUSSIAN
    groups: int = Field(64, ge=1, le=4096)
    shots: int = Field(1, ge=1, le=32)
    candidates: int = Field(8, ge=1, le=1000)
    vote: VoteKind = VoteKind.HARD
    max_new_tokens: int = Field(64, ge=1, le=1024)
    prefix: str | None = Field(None, max_length=500)


class RunCreateRequest(BaseModel):
    """``POST /v1/runs``: DP-train on a dataset (or generate without training), have the server refine,
    fetch and evaluate."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")

    dataset_id: str = Field(min_length=1)
    server_url: str | None = Field(None, description="default: PRIVSYNTH_CLIENT_SERVER_URL")
    generator: Generator = Generator.DP_LORA
    votes: VoteSettings = Field(default_factory=VoteSettings, description="settings of generator 'votes'")
    table: TableSettings = Field(default_factory=TableSettings, description="table datasets: HARMONIC examples")
    marginals: MarginalSettings = Field(default_factory=MarginalSettings,
                                        description="settings of generator 'marginals' (tables)")
    epsilon: float = Field(8.0, gt=0, description="target epsilon of the DP training or generation (must fit the budget)")
    epochs: int = Field(2, ge=1, le=100)
    max_steps: int | None = Field(None, ge=1, le=1_000_000, description=(
        "at most this many DP-SGD steps (fewer than the epochs give): every record stays in the sampling"))
    batch_size: int = Field(16, ge=1, le=4096)
    learning_rate: float = Field(3e-3, gt=0, le=1)
    lora_rank: int = Field(8, ge=1, le=64)
    lora_targets: list[str] = Field(default_factory=lambda: list(DEFAULT_TARGET_MODULES), min_length=1,
                                    description="module names LoRA adapts (all linear layers by default)")
    max_length: int | None = Field(None, ge=32, le=4096, description="tokens per example, prompt included (longer examples are cut and counted in the report); default 256, tables 1024")
    domain: str | None = Field(None, max_length=200, description="default: the dataset's name")
    labels: list[str] | None = None
    n_samples: int = Field(100, ge=1, le=100_000)
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    min_grade: float = Field(0.5, ge=0.0, le=1.0)
    min_condition: float = Field(0.5, ge=0.0, le=1.0, description="with labels: the requested label's least probability")
    grade: bool = True
    rewrite: bool = True
    train_knowledge_adapter: bool = True
    poll_seconds: float = Field(2.0, gt=0, le=300)
    device: str | None = Field(None, pattern=DEVICE_PATTERN, description="auto, cpu, cuda or cuda:N for this run's "
                                                                          "training and evaluation (default: the node's)")
    precision: Precision | None = Field(None, description="auto, fp32, bf16 or bf16-autocast (default: the node's)")


    def max_length_for(self, *, table: bool) -> int:
        return self.max_length or (1024 if table else 256)


class RunPublic(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")

    run_id: str
    dataset_id: str
    server_url: str
    state: RunState
    stage: RunStage | None = None
    progress: Progress = Field(default_factory=Progress)
    timings: dict[str, float] = Field(default_factory=dict)
    epsilon_spent: float | None = None
    adapter_sha256: str | None = None
    sample_set_sha256: str | None = Field(None, description="generator votes: sha256 of the DP samples sent")
    server_job: JobPublic | None = None
    report: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int
