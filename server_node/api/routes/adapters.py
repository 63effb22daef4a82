"""Adapter upload and lookup."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from starlette.concurrency import run_in_threadpool

from server_node.adapters.intake import accept_adapter, get_owned_adapter
from server_node.api.deps import CurrentClient, SessionDep, StateDep
from server_node.models import StoredAdapter
from shared import errors
from shared.errors import AdapterNotFoundError, AdapterTooLargeError
from shared.protocol import AdapterUploadResult
from shared.web.body import read_limited_body
from shared.web.openapi import error_responses

router = APIRouter(prefix="/adapters", tags=["adapters"])

# what an upload can be refused with (the OpenAPI spec lists them)
UPLOAD_ERRORS: tuple[type[errors.SynthError], ...] = (
    errors.AdapterFormatError, errors.AdapterNotSafetensorsError, errors.AdapterTruncatedError,
    errors.AdapterHeaderTooLargeError, errors.AdapterTooLargeError, errors.AdapterDtypeError,
    errors.AdapterNonFiniteError, errors.AdapterUnknownTensorError, errors.AdapterShapeError,
    errors.AdapterMissingTensorError, errors.AdapterRankError, errors.AdapterMetadataError,
    errors.CertificateMissingError, errors.CertificateMalformedError, errors.BaseModelMismatchError,
    errors.BaseModelNotHostedError, errors.CertificatePolicyError, errors.CertificateInconsistentError,
)


def _public(row: StoredAdapter) -> AdapterUploadResult:
    return AdapterUploadResult(adapter_id=row.adapter_id, sha256=row.sha256, kind=row.kind, base_model=row.base_model,
                               lora=row.lora, certificate=row.certificate, size_bytes=row.size_bytes, created_at=row.created_at)


@router.post("", response_model=AdapterUploadResult, status_code=status.HTTP_201_CREATED,
             responses=error_responses(*UPLOAD_ERRORS),
             openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def create_adapter(request: Request, state: StateDep, session: SessionDep, client: CurrentClient) -> AdapterUploadResult:
    """Upload a DP adapter (raw safetensors bytes); validated against hosted models and the epsilon policy."""
    data = await read_limited_body(request, state.policy.limits.max_total_bytes, error=AdapterTooLargeError)
    # Decoding and hashing are CPU work: keep them off the event loop.
    row = await run_in_threadpool(accept_adapter, data, owner_id=client.client_id, session=session,
                                  hosted=state.hosted, store=state.store, policy=state.policy)
    return _public(row)


@router.get("/{adapter_id}", response_model=AdapterUploadResult, responses=error_responses(AdapterNotFoundError))
def read_adapter(adapter_id: str, session: SessionDep, client: CurrentClient) -> AdapterUploadResult:
    """One of the caller's adapters."""
    return _public(get_owned_adapter(session, adapter_id=adapter_id, owner_id=client.client_id))
