"""DP sample set upload and lookup (training-free DP generation's output, in place of an adapter)."""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from server_node.api.deps import CurrentClient, SessionDep, StateDep
from server_node.models import StoredSampleSet
from server_node.samples.intake import accept_sample_set, get_owned_sample_set
from shared.errors import (
    BaseModelNotHostedError,
    CertificateInconsistentError,
    CertificatePolicyError,
    RequestInvalidError,
    RequestTooLargeError,
    SampleSetInvalidError,
    SampleSetNotFoundError,
)
from shared.protocol import SampleSetCreate, SampleSetPublic
from shared.web.openapi import error_responses

router = APIRouter(prefix="/sample-sets", tags=["sample sets"])


def _public(row: StoredSampleSet) -> SampleSetPublic:
    return SampleSetPublic(sample_set_id=row.sample_set_id, sha256=row.sha256, samples=row.samples,
                           base_model=row.base_model, lora=row.lora, certificate=row.certificate,
                           created_at=row.created_at)


@router.post("", response_model=SampleSetPublic, status_code=status.HTTP_201_CREATED,
             responses=error_responses(SampleSetInvalidError, CertificatePolicyError, CertificateInconsistentError, BaseModelNotHostedError,
                                       RequestTooLargeError, RequestInvalidError))
async def create_sample_set(request: SampleSetCreate, state: StateDep, session: SessionDep,
                            client: CurrentClient) -> SampleSetPublic:
    """Upload DP samples with their certificate; checked against the epsilon policy and the hosted models."""
    row = await run_in_threadpool(accept_sample_set, request, owner_id=client.client_id, session=session,
                                  hosted=state.hosted, store=state.store, policy=state.policy)
    return _public(row)


@router.get("/{sample_set_id}", response_model=SampleSetPublic, responses=error_responses(SampleSetNotFoundError))
def read_sample_set(sample_set_id: str, session: SessionDep, client: CurrentClient) -> SampleSetPublic:
    """One of the caller's sample sets."""
    return _public(get_owned_sample_set(session, sample_set_id=sample_set_id, owner_id=client.client_id))
