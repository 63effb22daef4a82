"""Model specs, the bundled offline defaults, their preparation, loading and fingerprints."""

from shared.models.architecture import BaseModelSignature, linear_shapes_from_config, linear_shapes_of_model
from shared.models.bundled import BUNDLED_MODELS, BundledModel, get_bundled
from shared.models.fingerprint import weights_sha256, weights_sha256_of_dir
from shared.models.resolve import ModelSource, ResolvedModel, resolve_model

__all__ = [
    "BUNDLED_MODELS",
    "BaseModelSignature",
    "BundledModel",
    "ModelSource",
    "ResolvedModel",
    "get_bundled",
    "linear_shapes_from_config",
    "linear_shapes_of_model",
    "resolve_model",
    "weights_sha256",
    "weights_sha256_of_dir",
]
