"""Wire schemas: defaults, bounds, and the error body shape both nodes send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.errors import AdapterRankError, SynthError
from shared.protocol import ErrorBody, JobCreateRequest, JobPublic, JobState, Progress, SampleSetCreate


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


TASK = {"domain": "h", "description": "q"}
VOTES_CERTIFICATE = {"epsilon": 4.0, "delta": 1e-5, "noise_multiplier": 20.0, "max_grad_norm": "inf",
                     "sample_rate": 1.0, "steps": 64, "accountant": "rdp", "training_records": 300,
                     "mechanism": "gaussian-votes"}


def test_a_job_starts_from_exactly_one_source() -> None:
    assert JobCreateRequest.model_validate({"sample_set_id": "s1", "task": TASK}).adapter_id is None
    for body in ({"task": TASK}, {"task": TASK, "adapter_id": "a", "sample_set_id": "s"}):
        with pytest.raises(ValidationError, match="exactly one"):
            JobCreateRequest.model_validate(body)


def test_sample_sets_are_named_by_their_canonical_jsonl() -> None:
    a = SampleSetCreate.model_validate({"samples": [{"instruction": "i", "response": "r"}],
                                        "certificate": VOTES_CERTIFICATE})
    b = SampleSetCreate.model_validate({"samples": [{"response": "r", "instruction": "i", "input": ""}],
                                        "certificate": {**VOTES_CERTIFICATE, "epsilon": 2.0}})
    assert a.canonical_jsonl() == b.canonical_jsonl() == b'{"instruction": "i", "response": "r"}\n'
    assert SampleSetCreate.model_validate_json(a.model_dump_json()) == a  # inf survives the JSON round trip
    with pytest.raises(ValidationError):
        SampleSetCreate.model_validate({"samples": [{"text": "t"}, {"instruction": "i", "response": "r"}],
                                        "certificate": VOTES_CERTIFICATE})
