"""EngineClient over real loopback HTTP: retries with backoff, refusals at once, a clear error when down."""

from __future__ import annotations

import time

import pytest

from server_node.inference.engine_client import EngineClient
from shared.errors import InferenceEngineRequestError, InferenceEngineUnavailableError
from shared.services import free_port
from tests.server_node.inference.conftest import url_of


def test_overload_answers_are_retried_then_succeed(scripted) -> None:
    scripted.script[:] = [(503, {"error": "busy"}), (429, {"error": "slow down"}), (200, {"choices": []})]
    client = EngineClient(url_of(scripted), api_key="k3y", retries=3, backoff=0.01)
    assert client.post("/v1/completions", {"model": "m"}) == {"choices": []}
    assert len(scripted.seen) == 3 and all(auth == "Bearer k3y" for _, _, auth in scripted.seen)


def test_a_refusal_is_raised_at_once_with_status_and_body(scripted) -> None:
    scripted.script[:] = [(404, {"error": "The model `x` does not exist."})]
    client = EngineClient(url_of(scripted), retries=3, backoff=0.01)
    with pytest.raises(InferenceEngineRequestError) as info:
        client.post("/v1/completions", {"model": "x"})
    assert info.value.code == "inference_engine_refused" and info.value.detail["status"] == 404
    assert "does not exist" in info.value.detail["body"] and len(scripted.seen) == 1


def test_an_engine_that_is_down_fails_after_the_retries_not_a_hang() -> None:
    client = EngineClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.01, connect_timeout=1.0)
    start = time.monotonic()
    with pytest.raises(InferenceEngineUnavailableError) as info:
        client.post("/v1/completions", {"model": "m"})
    assert time.monotonic() - start < 10
    assert info.value.code == "inference_engine_unavailable" and "3 tries" in info.value.message


def test_concurrency_is_bounded_across_callers(scripted) -> None:
    scripted.delay = 0.1
    client = EngineClient(url_of(scripted), max_concurrency=3)
    results = client.map(lambda i: client.post("/v1/completions", {"i": i}), range(9))
    assert len(results) == 9 and scripted.most <= 3 and len(scripted.seen) == 9


def test_an_engine_refuses_condition_guidance_before_sending_anything(scripted) -> None:
    """Guidance needs token-level decoding the OpenAI API does not expose: a clear 422, no request made."""
    from server_node.inference.engine_model import EngineTextModel
    from shared.errors import SamplingGuidanceError
    from shared.models.tiny import make_tiny_tokenizer

    lm = EngineTextModel(EngineClient(url_of(scripted), retries=0), "m", make_tiny_tokenizer())
    with pytest.raises(SamplingGuidanceError, match="local backend") as info:
        lm.sample(["a prompt"], max_new_tokens=4, negative_prompts=["another"], guidance=1.0)
    assert info.value.http_status == 422 and scripted.seen == []
