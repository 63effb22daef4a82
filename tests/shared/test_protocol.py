"""Wire schemas: defaults, bounds, and the error body shape both nodes send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.errors import AdapterRankError, SynthError
from shared.protocol import ErrorBody, JobCreateRequest, JobPublic, JobState, Progress


def test_job_request_defaults_and_bounds() -> None:
    request = JobCreateRequest.model_validate({"adapter_id": "a1", "task": {"domain": "health", "description": "qa"}})
    assert request.n_samples == 100 and request.sampling.temperature == 0.8 and request.train_knowledge_adapter
    with pytest.raises(ValidationError):
        JobCreateRequest.model_validate({"adapter_id": "a1", "task": {"domain": "h", "description": "q"}, "n_samples": 0})
    with pytest.raises(ValidationError):
        JobCreateRequest.model_validate({"adapter_id": "a1", "task": {"domain": "h", "description": "q"}, "bogus": 1})


def test_progress_cannot_exceed_total() -> None:
    with pytest.raises(ValidationError):
        Progress(done=5, total=4)
    assert Progress(done=4, total=4).done == 4


def test_error_body_matches_synth_error() -> None:
    exc = AdapterRankError("rank 99 too high", detail={"rank": 99})
    body = ErrorBody.model_validate(exc.to_body())
    assert body.error.code == "adapter_rank_too_high" and body.error.detail == {"rank": 99}
    assert SynthError("x").to_body() == {"error": {"code": "synth_error", "message": "x", "detail": None}}


def test_job_state_terminal() -> None:
    assert {s for s in JobState if s.terminal} == {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}
    job = JobPublic(job_id="j", adapter_id="a", state=JobState.QUEUED)
    assert JobPublic.model_validate_json(job.model_dump_json()) == job
