"""Where the server's heavy inference runs: in this process (transformers) or on an OpenAI-compatible
engine (vLLM) that batches across jobs and serves many LoRA adapters on one base model."""

from server_node.inference.backend import EngineBackend, InferenceBackend, LocalBackend, make_backend
from server_node.inference.text_model import LocalTextModel, TextModel

__all__ = ["EngineBackend", "InferenceBackend", "LocalBackend", "LocalTextModel", "TextModel", "make_backend"]
