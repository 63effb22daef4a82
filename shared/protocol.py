"""Pydantic wire models of the REST protocol between client node and server node (under /v1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.adapters.metadata import AdapterKind
from shared.lora import LoraSpec
from shared.privacy import DPCertificate


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


# --- errors ----------------------------------------------------------------------------------------


class ErrorInfo(_Wire):
    """What went wrong: a stable code for machines, a message for people, structured detail."""

    code: str = Field(min_length=1)
    message: str
    detail: Any = None


class ErrorBody(_Wire):
    """Every non-2xx response body: ``{"error": {"code", "message", "detail"}}``."""

    error: ErrorInfo


# --- health ----------------------------------------------------------------------------------------


class HealthStatus(_Wire):
    """/healthz (process alive) and /readyz (models loaded, database reachable)."""

    status: str
    detail: dict[str, Any] = Field(default_factory=dict)


# --- models ------------------------------------------------------------------------------------------


class ModelRole(StrEnum):
    BASE = "base"
    EXPERT = "expert"


class ModelInfo(_Wire):
    """A model a server hosts; clients pick the base model their adapter must be trained on."""

    model_id: str
    role: ModelRole
    weights_sha256: str | None = None
    chat: bool = False


class ModelsPublic(_Wire):
    data: list[ModelInfo]


# --- adapters ----------------------------------------------------------------------------------------


class AdapterUploadResult(_Wire):
    """Answer to ``POST /v1/adapters``: the stored adapter, named by the sha256 of its bytes."""

    adapter_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    kind: AdapterKind
    base_model: str
    lora: LoraSpec
    certificate: DPCertificate
    size_bytes: int = Field(ge=0)
    created_at: datetime | None = None


# --- jobs ------------------------------------------------------------------------------------------------


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}


class JobStage(StrEnum):
    GENERATING = "generating"
    GRADING = "grading"
    REWRITING = "rewriting"
    TRAINING = "training"


class TaskSpec(_Wire):
    """What the synthetic data is about; written by the data owner, never taken from a record."""

    domain: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)


class SamplingParams(_Wire):
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_new_tokens: int = Field(160, ge=1, le=2048)


class JobCreateRequest(_Wire):
    """``POST /v1/jobs``: generate from a stored DP adapter, grade and refine, optionally distill."""

    adapter_id: str = Field(min_length=1)
    task: TaskSpec
    n_samples: int = Field(100, ge=1, le=100_000)
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    min_grade: float = Field(0.5, ge=0.0, le=1.0)
    train_knowledge_adapter: bool = True


class Progress(_Wire):
    done: int = Field(0, ge=0)
    total: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> Progress:
        if self.total and self.done > self.total:
            raise ValueError(f"progress done ({self.done}) exceeds total ({self.total})")
        return self


class JobCounts(_Wire):
    generated: int = 0
    kept: int = 0
    dropped: int = 0
    rewritten: int = 0


class JobPublic(_Wire):
    """A job as its owner sees it through ``GET /v1/jobs/{id}``."""

    job_id: str
    adapter_id: str
    state: JobState
    stage: JobStage | None = None
    progress: Progress = Field(default_factory=Progress)
    counts: JobCounts = Field(default_factory=JobCounts)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per finished stage")
    error: ErrorInfo | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    request: JobCreateRequest | None = None


class JobsPublic(_Wire):
    data: list[JobPublic]
    count: int


class SyntheticSample(_Wire):
    """One refined sample as ``GET /v1/jobs/{id}/samples`` streams it (one JSON object per line)."""

    instruction: str = ""
    input: str = ""
    response: str = ""
    text: str = ""
    grade: float | None = Field(None, ge=0.0, le=1.0)
    reason: str | None = None
    rewritten: bool = False
