"""Pydantic wire models of the REST protocol between client node and server node (under /v1)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


# --- sample sets -----------------------------------------------------------------------------------------

MAX_SAMPLE_CHARS = 20_000


class SampleIn(_Wire):
    """One DP sample a client sends (from training-free DP generation): a text, or an instruction and response."""

    instruction: str = Field("", max_length=MAX_SAMPLE_CHARS)
    input: str = Field("", max_length=MAX_SAMPLE_CHARS)
    response: str = Field("", max_length=MAX_SAMPLE_CHARS)
    text: str = Field("", max_length=MAX_SAMPLE_CHARS)
    conditions: dict[str, str] = Field(default_factory=dict, max_length=4, description=(
        "the declared conditions the sample was written for (a conditioned vote run's stratum)"))

    @model_validator(mode="after")
    def _complete(self) -> SampleIn:
        if not (self.text.strip() or (self.instruction.strip() and self.response.strip())):
            raise ValueError("a sample needs a text, or an instruction and a response")
        if self.text.strip() and (self.instruction.strip() or self.response.strip()):
            raise ValueError("a sample is either a text or an instruction and response, not both")
        return self


class SampleSetCreate(_Wire):
    """``POST /v1/sample-sets``: DP samples and the certificate of the mechanism that produced them.

    The server treats them as it treats samples it generated from a DP adapter (grade, rewrite, train a
    knowledge adapter on ``base_model`` with LoRA ``lora``); the knowledge adapter inherits the certificate.
    """

    samples: list[SampleIn] = Field(min_length=1, max_length=100_000)
    certificate: DPCertificate
    base_model: str | None = Field(None, max_length=512, description="a hosted base model; default: the server's base")
    lora: LoraSpec = Field(default_factory=LoraSpec, description="the knowledge adapter's LoRA shape")

    @model_validator(mode="after")
    def _one_format(self) -> SampleSetCreate:
        if len({bool(x.text.strip()) for x in self.samples}) > 1:
            raise ValueError("samples must all be texts or all be instruction/response pairs")
        return self

    def canonical_jsonl(self) -> bytes:
        """The samples as the server stores them (sorted keys, empty fields left out); its sha256 names the
        set, and a knowledge adapter trained on it names that sha256 as its parent."""
        lines = [json.dumps({k: v for k, v in s.model_dump().items() if v}, sort_keys=True, ensure_ascii=False)
                 for s in self.samples]
        return ("\n".join(lines) + "\n").encode()


class SampleSetPublic(_Wire):
    """A stored sample set, named by the sha256 of its canonical JSONL."""

    sample_set_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    samples: int = Field(ge=1)
    base_model: str
    lora: LoraSpec
    certificate: DPCertificate
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
    """What the synthetic data is about; written by the data owner, never taken from a record.

    ``labels`` names the conditions records are generated for (e.g. "positive", "negative"): a sample's
    requested label is the one its instruction names, and the expert checks the response against it.
    """

    domain: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    labels: list[str] | None = Field(None, min_length=2, max_length=20)
    label_question: str | None = Field(None, max_length=500, description="default: 'Is it <a> or <b>?'")

    @model_validator(mode="after")
    def _distinct_labels(self) -> TaskSpec:
        if self.labels is not None:
            cleaned = [label.strip().lower() for label in self.labels]
            if any(not label or len(label) > 50 for label in cleaned) or len(set(cleaned)) != len(cleaned):
                raise ValueError("labels must be distinct, non-empty words of at most 50 characters")
        return self


class SamplingParams(_Wire):
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    top_k: int = Field(50, ge=0, le=1000, description="0: no top-k (transformers' default is 50)")
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_new_tokens: int = Field(160, ge=1, le=2048)
    guidance: float = Field(0.0, ge=0.0, le=10.0, description=(
        "condition guidance for adapters with declared conditions: each token's log-probabilities given the "
        "sample's condition are pushed away from those given another value of its label by this factor, "
        "within the model's top candidates (classifier-free guidance, Sanchez et al. 2023). Post-processing: "
        "no privacy cost; each decoding step runs twice the rows; in-process inference only. 0: off"))


MAX_EXAMPLE_ROWS = 4096


class TableJobSettings(_Wire):
    """How a job generates table rows (an adapter trained on ``table_row`` examples)."""

    neighbours: int = Field(5, ge=0, le=32, description="example rows shown in each prompt (k)")
    bootstrap: int = Field(32, ge=1, le=10_000, description="rows first written from the bare prompt")
    max_attempts_factor: float = Field(4.0, ge=1.0, le=100.0, description="generations allowed per row asked for")
    max_value_tokens: int = Field(24, ge=1, le=256, description="tokens one cell may take (the keys are written for it)")
    range_margin: float = Field(0.25, ge=0.0, le=10.0, description=(
        "numeric values may exceed the bootstrap rows' range by this share of its width"))
    label_shares: dict[str, float] | None = Field(None, description=(
        "the share of rows to write per label value (the client's DP estimate: post-processing); each row is "
        "then written label first, its label drawn by these shares. None: the model chooses the label"))
    example_rows: list[dict[str, str]] | None = Field(None, max_length=MAX_EXAMPLE_ROWS, description=(
        "rows of the client's DP reference pool (synthesized from its DP release: post-processing, safe to send) "
        "that the prompts show, as training showed them beside each private row. None: the prompts show rows the "
        "model wrote itself after a bootstrap"))

    @field_validator("label_shares")
    @classmethod
    def _shares(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and (not value or any(v < 0 for v in value.values()) or sum(value.values()) <= 0):
            raise ValueError("label_shares must be non-negative with a positive sum")
        return value


class ConditionShare(_Wire):
    """One combination of condition values and the share of samples to write for it."""

    conditions: dict[str, str] = Field(min_length=1, max_length=4)
    share: float = Field(ge=0.0, le=1.0)


class JobCreateRequest(_Wire):
    """``POST /v1/jobs``: generate from a stored DP adapter (or start from a stored DP sample set), grade
    and refine, optionally distill."""

    adapter_id: str | None = Field(None, min_length=1)
    sample_set_id: str | None = Field(None, min_length=1, description="instead of adapter_id: skip generation")
    task: TaskSpec
    n_samples: int = Field(100, ge=1, le=100_000)
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    min_grade: float = Field(0.5, ge=0.0, le=1.0)
    min_condition: float = Field(0.5, ge=0.0, le=1.0, description=(
        "with task labels: also drop samples whose expert-judged probability of the requested label is below "
        "this (a review of the wrong sentiment is wrong however fluent; the mean grade can hide it)"))
    grade: bool = Field(True, description="have the expert grade samples and drop those under min_grade")
    rewrite: bool = Field(True, description="have the expert rewrite each kept sample's response")
    train_knowledge_adapter: bool = True
    dedup_similarity: float = Field(0.95, gt=0.0, le=1.0, description="drop samples this similar (cosine, MiniLM) to a kept one")
    table: TableJobSettings = Field(default_factory=TableJobSettings, description="table adapters only")
    condition_shares: list[ConditionShare] | None = Field(None, max_length=512, description=(
        "an adapter with declared conditions: the share of samples per combination (the client's DP counts: "
        "post-processing). None: every combination alike"))
    condition_floor: float = Field(0.25, ge=0.0, le=1.0, description=(
        "each combination gets at least this fraction of an equal share, so rare ones are sampled too"))
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_source(self) -> JobCreateRequest:
        if (self.adapter_id is None) == (self.sample_set_id is None):
            raise ValueError("a job starts from exactly one of adapter_id and sample_set_id")
        return self


class Progress(_Wire):
    done: int = Field(0, ge=0)
    total: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> Progress:
        if self.total and self.done > self.total:
            raise ValueError(f"progress done ({self.done}) exceeds total ({self.total})")
        return self


class JobCounts(_Wire):
    generated: int = Field(0, description="well-formed, distinct samples generated")
    attempts: int = Field(0, description="generations tried")
    malformed: int = 0
    duplicates: int = 0
    invalid: int = Field(0, description="table rows that parsed but broke the schema, categories or ranges")
    kept: int = 0
    dropped: int = Field(0, description="graded under min_grade")
    rewritten: int = 0


class JobPublic(_Wire):
    """A job as its owner sees it through ``GET /v1/jobs/{id}``."""

    job_id: str
    adapter_id: str | None = None
    sample_set_id: str | None = None
    state: JobState
    stage: JobStage | None = None
    progress: Progress = Field(default_factory=Progress)
    counts: JobCounts = Field(default_factory=JobCounts)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per finished stage")
    error: ErrorInfo | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    request: JobCreateRequest | None = Field(None, description=(
        "the job's request, less a table job's example rows (the job keeps them; the echo stays small)"))
    compute: dict[str, Any] | None = Field(None, description="the device and precision the server's models ran in, "
                                                              "the CPU class, and why (shared.compute)")


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
    criteria: dict[str, float] = Field(default_factory=dict)
    reason: str | None = None
    label: str | None = Field(None, description="the label the sample was written for (its 'label' condition, or "
                                                  "the one its instruction names), if any")
    conditions: dict[str, str] = Field(default_factory=dict, description="the conditions the sample was written for")
    rewritten: bool = False

    def content(self) -> str:
        """All of the sample's text (for leakage checks)."""
        return "\n".join(v for v in (self.instruction, self.input, self.response, self.text) if v)
