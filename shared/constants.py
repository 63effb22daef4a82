"""Names and numbers both nodes must agree on: API prefix, file names, metadata keys, versions."""

from __future__ import annotations

API_PREFIX = "/v1"
PROJECT_NAME = "privsynth"

# Adapter file contract (safetensors). The version goes up whenever the metadata keys change meaning.
ADAPTER_FORMAT_VERSION = 1
ADAPTER_MEDIA_TYPE = "application/octet-stream"
# peft's file names (peft.utils.constants), so a saved adapter directory is loadable by peft itself.
SAFETENSORS_WEIGHTS_NAME = "adapter_model.safetensors"
ADAPTER_CONFIG_NAME = "adapter_config.json"

# Keys inside the safetensors ``__metadata__`` map (all values are strings, as safetensors requires).
META_FORMAT = "format"  # "pt", as peft writes it
META_PREFIX = f"{PROJECT_NAME}."
META_FORMAT_VERSION = META_PREFIX + "format_version"
META_KIND = META_PREFIX + "kind"
META_BASE_MODEL = META_PREFIX + "base_model"
META_BASE_MODEL_SHA256 = META_PREFIX + "base_model_sha256"
META_LORA = META_PREFIX + "lora"
META_TEMPLATE = META_PREFIX + "template"
META_CERTIFICATE = META_PREFIX + "dp_certificate"

# Decoding limits (defaults; a server may lower them through its settings).
DEFAULT_MAX_ADAPTER_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_HEADER_BYTES = 1024 * 1024
DEFAULT_MAX_LORA_RANK = 64
ALLOWED_ADAPTER_DTYPES = ("F32", "BF16", "F16")

# Bundled model names (resolved by shared.models).
DEFAULT_BASE_MODEL = "smollm2-135m-instruct"
DEFAULT_EXPERT_MODEL = "gemma3-270m"
DEFAULT_EMBEDDING_MODEL = "all-minilm-l6-v2"

# Written into every prepared model directory: id, source and the sha256 of its weights.
MODEL_MANIFEST_NAME = "privsynth_model.json"
