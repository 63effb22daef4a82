"""Accept a client's DP sample set: check its certificate and shape, store it once. Plain Python."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_node.adapters.intake import IntakePolicy, check_certificate
from server_node.hosting import HostedModels
from server_node.models import StoredSampleSet
from server_node.tenancy import get_owned
from shared.errors import SampleSetInvalidError, SampleSetNotFoundError
from shared.privacy import Mechanism
from shared.protocol import SampleSetCreate
from shared.storage import ArtifactStore

# Mechanisms whose output is DP samples; an adapter's DP-SGD certificate does not describe a sample set.
SAMPLE_MECHANISMS = {Mechanism.GAUSSIAN_VOTES, Mechanism.LAPLACE_VOTES, Mechanism.NONE}


def accept_sample_set(
    request: SampleSetCreate, *, owner_id: str, session: Session, hosted: HostedModels, store: ArtifactStore,
    policy: IntakePolicy,
) -> StoredSampleSet:
    """Validate, then store bytes and row; on any failure nothing is stored. The same samples sent twice
    by one client are one sample set.

    Raises:
        CertificatePolicyError, SampleSetInvalidError, BaseModelNotHostedError.
    """
    certificate = request.certificate
    if certificate.mechanism not in SAMPLE_MECHANISMS:
        raise SampleSetInvalidError(
            f"a sample set's certificate must come from a sample mechanism ({sorted(m.value for m in SAMPLE_MECHANISMS)}), "
            f"not {certificate.mechanism.value!r}", detail={"mechanism": certificate.mechanism.value})
    check_certificate(certificate, policy, what="sample set")
    if request.lora.r > policy.limits.max_rank:
        raise SampleSetInvalidError(f"LoRA rank {request.lora.r} is above the limit of {policy.limits.max_rank}",
                                    detail={"rank": request.lora.r, "limit": policy.limits.max_rank})
    base = hosted.by_name(request.base_model)
    data = request.canonical_jsonl()
    sha256 = hashlib.sha256(data).hexdigest()
    existing = session.scalar(select(StoredSampleSet).where(StoredSampleSet.owner_id == owner_id,
                                                            StoredSampleSet.sha256 == sha256))
    if existing is not None:
        return existing
    store.put(data)
    row = StoredSampleSet(sample_set_id=uuid.uuid4().hex, owner_id=owner_id, sha256=sha256, samples=len(request.samples),
                          base_model=base.signature.model_id, lora=request.lora.model_dump(mode="json"),
                          certificate=certificate.model_dump(mode="json"))
    session.add(row)
    session.commit()
    return row


def get_owned_sample_set(session: Session, *, sample_set_id: str, owner_id: str) -> StoredSampleSet:
    """The caller's sample set; another client's is indistinguishable from a missing one (404)."""
    return get_owned(session, StoredSampleSet, sample_set_id, owner_id=owner_id, missing=SampleSetNotFoundError,
                     what="sample set")


def read_sample_set(store: ArtifactStore, row: StoredSampleSet) -> list[dict[str, str]]:
    """The stored samples, as the pipeline's stages take them."""
    return [json.loads(line) for line in store.get(row.sha256).decode().splitlines() if line.strip()]
