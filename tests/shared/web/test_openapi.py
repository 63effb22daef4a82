"""Both services' OpenAPI specs describe the error bodies they really send, with the codes per status."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from client_node.main import create_app as create_client
from server_node.main import create_app as create_server
from shared import errors
from shared.web.openapi import error_responses

CODES = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.SynthError)}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


@pytest.fixture(scope="module", params=["client", "server"])
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    return (create_client if request.param == "client" else create_server)().openapi()


def test_every_error_response_is_the_error_body_with_real_codes(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for method, path, op in _operations(spec):
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
            named = set(re.findall(r"`([a-z_]+)`:", response["description"]))
            assert named and named <= CODES, (method, path, status)


def test_every_v1_route_needs_a_token_and_input_can_be_refused(spec: dict[str, Any]) -> None:
    for method, path, op in _operations(spec):
        assert ("401" in op["responses"]) == path.startswith("/v1"), (method, path)
        if op.get("parameters") or op.get("requestBody", {}).get("content", {}).get("application/json"):
            assert "`request_invalid`" in op["responses"]["422"]["description"], (method, path)


def test_served_spec_is_the_corrected_one() -> None:
    served = TestClient(create_client()).get("/openapi.json").json()  # no lifespan: the spec needs no state
    assert "HTTPValidationError" not in served["components"]["schemas"]


def test_error_responses_group_codes_by_status() -> None:
    responses = error_responses(errors.JobNotFoundError, errors.JobFinishedError, errors.JobNotReadyError)
    assert sorted(responses) == [404, 409]
    assert "`job_already_finished`" in responses[409]["description"]
    assert "`job_result_unavailable`" in responses[409]["description"]
