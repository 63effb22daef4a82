"""How a job plans samples per condition from its request and its adapter's template (no models)."""

from __future__ import annotations

import pytest

from server_node.inference.backend import EngineBackend, LocalBackend
from server_node.jobs.checks import check_against_backend, check_against_template, wanted_per_condition
from shared.conditions import ConditionSpace
from shared.errors import ConditionSharesError, SamplingGuidanceError
from shared.prompts import GenerationTemplate, RecordFormat
from shared.protocol import ConditionShare, JobCreateRequest, SamplingParams, TaskSpec

SPACE = ConditionSpace(domains={"label": ["negative", "positive"]})
CONDITIONED = GenerationTemplate.for_task("reviews", record_format=RecordFormat.TEXT, conditions=SPACE)


def _request(shares=None, **kwargs) -> JobCreateRequest:
    return JobCreateRequest(adapter_id="a", task=TaskSpec(domain="reviews", description="clothing reviews"),
                            n_samples=20, condition_shares=shares, **kwargs)


def test_shares_and_floor_plan_the_samples() -> None:
    shares = [ConditionShare(conditions={"label": "negative"}, share=0.1),
              ConditionShare(conditions={"label": "positive"}, share=0.9)]
    plan = wanted_per_condition(_request(shares, condition_floor=0.5), CONDITIONED)
    assert plan == {(("label", "negative"),): 6, (("label", "positive"),): 14}  # half the shares, half equal
    assert wanted_per_condition(_request(), CONDITIONED) == {(("label", "negative"),): 10, (("label", "positive"),): 10}
    assert wanted_per_condition(_request(), GenerationTemplate.for_task("reviews")) is None


def test_shares_that_do_not_fit_the_adapter_are_refused() -> None:
    wrong = [ConditionShare(conditions={"label": "neutral"}, share=1.0)]
    with pytest.raises(ConditionSharesError, match="outside") as info:
        wanted_per_condition(_request(wrong), CONDITIONED)
    assert info.value.code == "condition_shares_invalid" and info.value.http_status == 422
    with pytest.raises(ConditionSharesError, match="declares no conditions"):
        wanted_per_condition(_request(wrong), GenerationTemplate.for_task("reviews"))


def test_guidance_needs_declared_conditions() -> None:
    guided = _request(sampling=SamplingParams(guidance=1.5))
    check_against_template(guided, CONDITIONED)  # the conditioned adapter takes it
    with pytest.raises(SamplingGuidanceError, match="declares none") as info:
        check_against_template(guided, GenerationTemplate.for_task("reviews"))
    assert info.value.code == "sampling_guidance_unsupported" and info.value.http_status == 422
    check_against_template(_request(), GenerationTemplate.for_task("reviews"))  # off by default


def test_guidance_runs_only_where_decoding_is_token_by_token() -> None:
    """The backends' own declarations decide (the engine's HTTP refusal is tested in test_engine_down_http)."""
    guided = _request(sampling=SamplingParams(guidance=1.5))
    check_against_backend(guided, LocalBackend(pool=None))  # type: ignore[arg-type]  # the check reads no pool
    with pytest.raises(SamplingGuidanceError, match="engine backend"):
        check_against_backend(guided, EngineBackend)  # type: ignore[arg-type]  # its class-level declaration
    check_against_backend(_request(), EngineBackend)  # type: ignore[arg-type]  # unguided jobs run anywhere
