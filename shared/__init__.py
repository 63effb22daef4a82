"""What both nodes share: wire schemas, the adapter codec and DP certificate, model loading, prompts.

Importing ``shared`` never imports torch, FastAPI or a database driver; heavy imports happen inside the
functions that need them, so a node's API process stays light.
"""

from shared.adapters import (
    AdapterKind,
    AdapterLimits,
    AdapterMetadata,
    DecodedAdapter,
    decode_adapter,
    encode_adapter,
)
from shared.errors import SynthError
from shared.lora import LoraSpec
from shared.privacy import Accountant, DPCertificate, Mechanism
from shared.prompts import GenerationTemplate, RecordFormat

__all__ = [
    "Accountant",
    "AdapterKind",
    "AdapterLimits",
    "AdapterMetadata",
    "DPCertificate",
    "DecodedAdapter",
    "GenerationTemplate",
    "LoraSpec",
    "Mechanism",
    "RecordFormat",
    "SynthError",
    "decode_adapter",
    "encode_adapter",
]
