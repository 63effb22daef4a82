"""What a job asks that its adapter's template (or the server's inference backend) decides: the samples per
condition, the example rows, condition guidance.

Checked when the job is created, so a request that cannot run is a 422 at ``POST /v1/jobs`` rather than a
job that fails later; the runner plans with the same functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server_node.pipeline.table_generate import example_pool
from shared.conditions import Conditions
from shared.errors import ConditionSharesError, ExampleRowsError, SamplingGuidanceError
from shared.prompts import GenerationTemplate
from shared.protocol import JobCreateRequest

if TYPE_CHECKING:
    from server_node.inference.backend import InferenceBackend


def wanted_per_condition(request: JobCreateRequest, template: GenerationTemplate) -> dict[Conditions, int] | None:
    """Samples per combination of a conditioned adapter's conditions, by the job's shares and floor.

    Raises:
        ConditionSharesError: shares for an adapter without conditions, or naming values it does not declare.
    """
    space = template.conditions
    if space is None:
        if request.condition_shares:
            raise ConditionSharesError("the job gives condition shares, but its adapter declares no conditions")
        return None
    shares = None
    if request.condition_shares:
        shares = {tuple(s.conditions.items()): s.share for s in request.condition_shares}
    try:
        return space.allocate(request.n_samples, shares, floor=request.condition_floor)
    except ValueError as exc:
        raise ConditionSharesError(str(exc), detail={"conditions": space.domains}) from None


def check_against_template(request: JobCreateRequest, template: GenerationTemplate) -> None:
    """Raises:
    ConditionSharesError: see ``wanted_per_condition``.
    ExampleRowsError: example rows for an adapter that writes no table, or a row its table does not allow.
    SamplingGuidanceError: condition guidance for an adapter without declared conditions.
    """
    wanted_per_condition(request, template)
    if request.sampling.guidance > 0 and template.conditions is None:
        raise SamplingGuidanceError("condition guidance steers samples between declared conditions; this job's "
                                    "adapter declares none (set sampling.guidance to 0)")
    rows = request.table.example_rows
    if rows:
        if template.table is None:
            raise ExampleRowsError("the job sends example rows, but its adapter writes text, not table rows")
        example_pool(template.table, rows)


def check_against_backend(request: JobCreateRequest, backend: InferenceBackend) -> None:
    """Raises:
    SamplingGuidanceError: condition guidance on a backend that does not decode token by token (an engine).
    """
    if request.sampling.guidance > 0 and not backend.token_level:
        raise SamplingGuidanceError(f"condition guidance needs token-level decoding, which this server's {backend.name} "
                                    "backend does not expose; set sampling.guidance to 0")
