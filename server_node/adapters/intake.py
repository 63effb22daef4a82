"""Accept a client's adapter: decode and validate it, apply the epsilon policy, store it. Plain Python."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_node.hosting import HostedModels
from server_node.models import StoredAdapter
from server_node.tenancy import get_owned
from shared.adapters import AdapterLimits, decode_adapter, decode_metadata
from shared.adapters.codec import DecodedAdapter
from shared.adapters.metadata import AdapterMetadata
from shared.errors import AdapterNotFoundError, CertificateInconsistentError, CertificatePolicyError
from shared.models.architecture import BaseModelSignature
from shared.privacy import DPCertificate
from shared.storage import ArtifactStore
from shared.training.accounting import epsilon_of_history


@dataclass(frozen=True)
class IntakePolicy:
    limits: AdapterLimits
    max_epsilon: float
    allow_non_private: bool = False


def accept_adapter(
    data: bytes, *, owner_id: str, session: Session, hosted: HostedModels, store: ArtifactStore, policy: IntakePolicy
) -> StoredAdapter:
    """Validate ``data`` fully, then store bytes and row; on any failure nothing is stored.

    Raises:
        shared.errors.AdapterFormatError subclasses, BaseModelNotHostedError, CertificatePolicyError.
    """
    chosen: list[BaseModelSignature] = []

    def hosted_base(metadata: AdapterMetadata) -> BaseModelSignature:
        """Runs once the metadata is parsed, before any tensor is read."""
        chosen.append(hosted.for_adapter(metadata.base_model, metadata.base_model_sha256).signature)
        check_certificate(metadata.certificate, policy)
        return chosen[0]

    decoded = decode_adapter(data, limits=policy.limits, base=hosted_base)
    metadata = decoded.metadata
    existing = session.scalar(select(StoredAdapter).where(StoredAdapter.owner_id == owner_id,
                                                          StoredAdapter.sha256 == decoded.sha256))
    if existing is not None:
        return existing
    store.put(data)
    row = StoredAdapter(
        adapter_id=uuid.uuid4().hex, owner_id=owner_id, sha256=decoded.sha256, kind=metadata.kind.value,
        base_model=chosen[0].model_id, lora=metadata.lora.model_dump(mode="json"),
        certificate=metadata.certificate.model_dump(mode="json"), size_bytes=decoded.nbytes,
    )
    session.add(row)
    session.commit()
    return row


def read_stored_adapter(store: ArtifactStore, row: StoredAdapter, *, max_bytes: int) -> DecodedAdapter:
    """A stored adapter decoded again: it passed the full checks at upload, so only its size is bounded."""
    return decode_adapter(store.get(row.sha256), limits=_stored_limits(row, max_bytes))


def read_stored_metadata(store: ArtifactStore, row: StoredAdapter, *, max_bytes: int) -> AdapterMetadata:
    """A stored adapter's metadata (its template, to check a job against), no tensor loaded."""
    return decode_metadata(store.get(row.sha256), limits=_stored_limits(row, max_bytes))


def _stored_limits(row: StoredAdapter, max_bytes: int) -> AdapterLimits:
    return AdapterLimits(max_total_bytes=max(max_bytes, row.size_bytes), max_rank=1 << 16)


def get_owned_adapter(session: Session, *, adapter_id: str, owner_id: str) -> StoredAdapter:
    """The caller's adapter; another client's adapter is indistinguishable from a missing one (404)."""
    return get_owned(session, StoredAdapter, adapter_id, owner_id=owner_id, missing=AdapterNotFoundError, what="adapter")


def check_certificate(certificate: DPCertificate, policy: IntakePolicy, *, what: str = "adapter") -> None:
    """Apply the epsilon policy to a certificate (an adapter's, or a sample set's).

    Raises:
        CertificatePolicyError: non-private when the server wants DP, or epsilon above its limit.
        CertificateInconsistentError: its accountant history composes to more than the epsilon it states.
    """
    epsilon = certificate.epsilon
    if certificate.is_private and certificate.history:
        composed = epsilon_of_history(certificate.history, delta=certificate.delta, accountant=certificate.accountant)
        if composed > epsilon * (1 + 1e-6) + 1e-9:
            raise CertificateInconsistentError(
                f"the {what}'s certificate states epsilon {epsilon:.3f}, but its own history composes to "
                f"{composed:.3f} at its delta", detail={"epsilon": epsilon, "composed": composed,
                                                        "releases": [r.value for r in certificate.releases]})
    if math.isinf(epsilon) and not policy.allow_non_private:
        raise CertificatePolicyError(
            f"the {what} was made without DP (epsilon = inf); this server accepts only DP {what}s",
            detail={"epsilon": "inf", "max_epsilon": policy.max_epsilon},
        )
    if math.isfinite(epsilon) and epsilon > policy.max_epsilon:
        raise CertificatePolicyError(
            f"the {what}'s certificate states epsilon {epsilon:.3f}, above this server's limit of {policy.max_epsilon}",
            detail={"epsilon": epsilon, "max_epsilon": policy.max_epsilon},
        )
