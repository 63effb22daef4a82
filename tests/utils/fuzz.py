"""Property-based requests from a service's own OpenAPI spec (schemathesis) against the live service: no
answer of 500 or above, and every 4xx carries the error body with a code the spec lists for it."""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

APP_WIDE = {"not_found", "method_not_allowed", "request_too_large"}  # any route: unknown path, method, size
EXAMPLES = 20  # per operation: about 500 requests per service, under a minute on 2 cores

fuzz_settings = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))


def schema_of(app: Any) -> schemathesis.BaseSchema:
    """The spec as the service serves it, built from its app without starting it."""
    return schemathesis.openapi.from_dict(app.openapi())


def problems_with(case: Any, base_url: str, headers: dict[str, str]) -> list[str]:
    """Call the live service with ``case``; what is wrong with its answer (nothing, for a good one)."""
    response = case.call(base_url=base_url, headers=headers, timeout=30)
    where = f"{case.method} {case.formatted_path}: {response.status_code}"
    if response.status_code >= 500:
        return [f"{where} {response.text[:500]}"]
    if response.status_code < 400:
        return []
    code = response.json().get("error", {}).get("code")
    declared = case.operation.definition.raw.get("responses", {}).get(str(response.status_code), {})
    listed = set(re.findall(r"`([a-z_]+)`", declared.get("description", "")))
    if code in listed or code in APP_WIDE:
        return []
    return [f"{where} {code} not in the spec's {sorted(listed)}: {response.text[:300]}"]
