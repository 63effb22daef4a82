"""The models a worker uses: the expert and the embedder loaded once; a fresh base model per use.

A base model is loaded fresh for every job stage that changes it (merging the client's adapter for
sampling, injecting LoRA for training), so no client's weights ever leak into another's job. Loading a
cached safetensors checkpoint takes well under a second for the default models.
"""

from __future__ import annotations

import threading
from typing import Any

from server_node.hosting import HostedModel
from shared.adapters.codec import DecodedAdapter
from shared.adapters.peft_io import load_lora
from shared.compute import Compute
from shared.models.embedding import SentenceEmbedder
from shared.models.loading import MODEL_BUILD_LOCK, LoadedModel, load_for
from shared.models.resolve import ResolvedModel


class ModelPool:
    """Loads lazily; safe to share between worker threads (loading is serialized)."""

    def __init__(self, *, expert: ResolvedModel | None, embedder: ResolvedModel | None, compute: Compute) -> None:
        self._expert_spec = expert
        self._embedder_spec = embedder
        self.compute = compute
        self._lock = threading.Lock()
        self._expert: LoadedModel | None = None
        self._embedder: SentenceEmbedder | None = None

    def expert(self) -> LoadedModel:
        if self._expert_spec is None:
            raise ValueError("this server hosts no expert model (PRIVSYNTH_SERVER_EXPERT_MODEL is empty)")
        with self._lock:
            if self._expert is None:
                self._expert = load_for(self._expert_spec, self.compute)
            return self._expert

    def embedder(self) -> SentenceEmbedder | None:
        """The sentence embedder for near-duplicate removal, or None when none is configured."""
        if self._embedder_spec is None:
            return None
        with self._lock:
            if self._embedder is None:
                self._embedder = SentenceEmbedder.load(self._embedder_spec, device=self.compute.device)
            return self._embedder

    def fresh_base(self, hosted: HostedModel) -> LoadedModel:
        return load_for(hosted.resolved, self.compute)

    def base_with_adapter(self, hosted: HostedModel, adapter: DecodedAdapter) -> tuple[Any, Any]:
        """A fresh base model with the client's adapter merged into its weights (fastest to sample from)."""
        loaded = self.fresh_base(hosted)
        with MODEL_BUILD_LOCK:
            merged = load_lora(loaded.model, adapter).merge_and_unload()
        merged.eval()
        return merged, loaded.tokenizer
