"""The adapter's metadata: what it was trained on, how, with which template, under which DP guarantee."""

from __future__ import annotations

import json
import logging
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.constants import (
    ADAPTER_FORMAT_VERSION,
    META_BASE_MODEL,
    META_BASE_MODEL_SHA256,
    META_CERTIFICATE,
    META_FORMAT,
    META_FORMAT_VERSION,
    META_KIND,
    META_LORA,
    META_TEMPLATE,
)
from shared.errors import AdapterMetadataError, CertificateMalformedError, CertificateMissingError
from shared.lora import LoraSpec
from shared.privacy import DPCertificate
from shared.prompts import GenerationTemplate

logger = logging.getLogger(__name__)

_KNOWN_KEYS = {
    META_FORMAT,
    META_FORMAT_VERSION,
    META_KIND,
    META_BASE_MODEL,
    META_BASE_MODEL_SHA256,
    META_LORA,
    META_TEMPLATE,
    META_CERTIFICATE,
}


class AdapterKind(StrEnum):
    """Who made the adapter: the client's DP training, or the server's knowledge distillation."""

    DP = "dp"
    KNOWLEDGE = "knowledge"


class AdapterMetadata(BaseModel):
    """Everything an adapter file states about itself besides its tensors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = ADAPTER_FORMAT_VERSION
    kind: AdapterKind = AdapterKind.DP
    base_model: str = Field(min_length=1, max_length=512)
    base_model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    lora: LoraSpec
    template: GenerationTemplate
    certificate: DPCertificate

    def to_strings(self) -> dict[str, str]:
        """The safetensors ``__metadata__`` map (strings only)."""
        return {
            META_FORMAT: "pt",
            META_FORMAT_VERSION: str(self.format_version),
            META_KIND: self.kind.value,
            META_BASE_MODEL: self.base_model,
            META_BASE_MODEL_SHA256: self.base_model_sha256,
            META_LORA: self.lora.model_dump_json(),
            META_TEMPLATE: self.template.model_dump_json(),
            META_CERTIFICATE: self.certificate.model_dump_json(),
        }

    @classmethod
    def from_strings(cls, meta: dict[str, str] | None) -> AdapterMetadata:
        """Parse and validate the ``__metadata__`` map; each problem raises its own coded error."""
        meta = dict(meta or {})
        unknown = sorted(k for k in meta if k not in _KNOWN_KEYS)
        if unknown:
            logger.warning("ignoring unknown adapter metadata keys: %s", unknown)

        certificate = _parse_certificate(meta.get(META_CERTIFICATE))
        missing = [k for k in (META_FORMAT_VERSION, META_BASE_MODEL, META_BASE_MODEL_SHA256, META_LORA, META_TEMPLATE) if k not in meta]
        if missing:
            raise AdapterMetadataError(
                f"adapter metadata is missing required keys {missing}; encode adapters with shared.adapters.encode_adapter",
                detail={"missing": missing},
            )
        try:
            version = int(meta[META_FORMAT_VERSION])
        except ValueError:
            raise AdapterMetadataError(
                f"format version must be an integer, got {meta[META_FORMAT_VERSION]!r}",
                detail={"key": META_FORMAT_VERSION},
            ) from None
        if version != ADAPTER_FORMAT_VERSION:
            raise AdapterMetadataError(
                f"adapter format version {version} is not supported (this build reads version {ADAPTER_FORMAT_VERSION})",
                detail={"format_version": version, "supported": [ADAPTER_FORMAT_VERSION]},
            )
        try:
            return cls(
                format_version=version,
                kind=meta.get(META_KIND, AdapterKind.DP.value),
                base_model=meta[META_BASE_MODEL],
                base_model_sha256=meta[META_BASE_MODEL_SHA256],
                lora=LoraSpec.model_validate_json(meta[META_LORA]),
                template=GenerationTemplate.model_validate_json(meta[META_TEMPLATE]),
                certificate=certificate,
            )
        except ValidationError as exc:
            raise AdapterMetadataError(
                f"adapter metadata is invalid: {_first_error(exc)}", detail={"errors": _errors(exc)}
            ) from None


def _parse_certificate(raw: str | None) -> DPCertificate:
    if raw is None or not raw.strip():
        raise CertificateMissingError(
            "the adapter carries no DP certificate; train it with client_node's DP trainer (or mark a "
            "non-private baseline with DPCertificate.non_private)",
            detail={"key": META_CERTIFICATE},
        )
    try:
        json.loads(raw)
    except ValueError:
        raise CertificateMalformedError(
            "the DP certificate is not valid JSON", detail={"key": META_CERTIFICATE}
        ) from None
    try:
        return DPCertificate.model_validate_json(raw)
    except ValidationError as exc:
        raise CertificateMalformedError(
            f"the DP certificate is malformed: {_first_error(exc)}", detail={"errors": _errors(exc)}
        ) from None


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()]


def _first_error(exc: ValidationError) -> str:
    first = _errors(exc)[0]
    return f"{first['loc']}: {first['msg']}" if first["loc"] else first["msg"]
