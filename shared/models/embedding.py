"""Sentence embeddings (all-MiniLM-L6-v2 by default) and near-duplicate removal with them.

Mean pooling over the attention mask and L2 normalization, as the sentence-transformers pipeline of
MiniLM does, computed with transformers directly (no extra dependency). Cosine similarity is then a
dot product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.config import ModelSettings
from shared.models.resolve import ResolvedModel, resolve_model


@dataclass
class SentenceEmbedder:
    """An encoder model and its tokenizer; ``embed`` returns unit vectors."""

    model: Any
    tokenizer: Any
    max_length: int = 256
    device: str = "cpu"

    @classmethod
    def load(cls, spec: str | ResolvedModel, *, settings: ModelSettings | None = None,
             device: str = "cpu") -> SentenceEmbedder:
        from transformers import AutoModel, AutoTokenizer

        from shared.models.loading import MODEL_BUILD_LOCK

        resolved = spec if isinstance(spec, ResolvedModel) else resolve_model(spec, settings=settings)
        with MODEL_BUILD_LOCK:
            model = AutoModel.from_pretrained(str(resolved.path)).to(device)
        model.eval()
        return cls(model=model, tokenizer=AutoTokenizer.from_pretrained(str(resolved.path)), device=device)

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> Any:
        """A float32 tensor ``(len(texts), dim)`` of unit-length embeddings."""
        import torch

        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(list(texts[start : start + batch_size]), return_tensors="pt", padding=True,
                                   truncation=True, max_length=self.max_length).to(self.device)
            with torch.inference_mode():
                hidden = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            chunks.append(torch.nn.functional.normalize(pooled.float(), dim=-1).cpu())
        if not chunks:
            return torch.zeros((0, int(self.model.config.hidden_size)))
        return torch.cat(chunks)


def near_duplicate_mask(embeddings: Any, *, threshold: float) -> list[bool]:
    """Greedy in order: an item is a near duplicate when its cosine similarity to an earlier kept item
    reaches ``threshold``. Returns one flag per row (True = drop)."""
    import torch

    drop: list[bool] = []
    kept: list[int] = []
    for i in range(int(embeddings.shape[0])):
        if kept:
            similarity = embeddings[kept] @ embeddings[i]
            if float(torch.max(similarity)) >= threshold:
                drop.append(True)
                continue
        kept.append(i)
        drop.append(False)
    return drop
