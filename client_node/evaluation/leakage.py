"""The run report's privacy figures, measured where the private records are: what the received samples
share with them verbatim, which personal identifiers in them reappear, and how well a loss-threshold
membership-inference attack tells training records from held-out ones under the DP adapter."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from client_node.evaluation.heldout import per_record_losses
from client_node.evaluation.privacy.membership import loss_threshold_auc
from client_node.evaluation.privacy.overlap import PrivateNgrams, overlap_summary
from client_node.evaluation.privacy.pii import pii_in_texts, pii_reconstruction
from shared.adapters.codec import DecodedAdapter
from shared.adapters.peft_io import adapter_applied
from shared.models.loading import LoadedModel
from shared.records import Record


def sample_leakage(sample_texts: Sequence[str], train: Sequence[Record]) -> dict[str, Any]:
    """Verbatim overlap and PII reconstruction (e-mails and card numbers found by pattern in the records)."""
    if not sample_texts:
        return {"samples": 0}
    private_texts = [r.content() for r in train]
    pii = pii_reconstruction(pii_in_texts(private_texts), sample_texts)
    return {"samples": len(sample_texts), "overlap": overlap_summary(sample_texts, PrivateNgrams(private_texts)).to_dict(),
            "pii": {"rate": pii.rate, "found": pii.found, "total": pii.total}}


def membership_auc(loaded: LoadedModel, adapter: DecodedAdapter, train: Sequence[Record], holdout: Sequence[Record],
                   *, max_length: int = 256, seed: int = 0) -> dict[str, Any]:
    """Loss-threshold MIA AUC on the released adapter, applied to the loaded base model and removed again:
    held-out records against as many training records."""
    if not holdout or not train:
        return {"members": 0, "nonmembers": len(holdout)}
    members = random.Random(seed).sample(list(train), min(len(train), len(holdout)))
    template = adapter.metadata.template
    with adapter_applied(loaded.model, adapter) as model:
        inside = per_record_losses(model, loaded.tokenizer, template, members, max_length=max_length)
        outside = per_record_losses(model, loaded.tokenizer, template, holdout, max_length=max_length)
    return {"auc": loss_threshold_auc(inside, outside), "members": len(members), "nonmembers": len(holdout)}
