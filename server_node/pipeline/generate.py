"""Generate: sample new records from base + DP adapter, prompted only by the adapter's data-free template.

The prompts hold nothing but the template the adapter carries (itself made from the task description),
so no private record can reach the server through them; by DP's post-processing property the samples
carry the adapter's (epsilon, delta) guarantee.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.conditions import Conditions
from shared.models.embedding import SentenceEmbedder, near_duplicate_mask
from shared.prompts import GenerationTemplate, parse_record
from shared.protocol import SamplingParams

if TYPE_CHECKING:
    from server_node.inference.text_model import TextModel


@dataclass(frozen=True)
class GeneratedSample:
    """One parsed sample and the raw text it came from."""

    fields: dict[str, str]
    raw: str
    conditions: Conditions = ()  # what the sample was asked for (a conditioned template)


@dataclass
class GenerationResult:
    samples: list[GeneratedSample] = field(default_factory=list)
    attempts: int = 0
    malformed: int = 0
    duplicates: int = 0
    tokens: int = 0  # generated text re-tokenized, all attempts (for throughput figures)


def sampling_prompt(tokenizer: Any, template: GenerationTemplate, conditions: Conditions = ()) -> str:
    """The prompt a sample starts from: the template's chat messages (stating ``conditions`` when the
    template declares them), then the assistant turn."""
    if tokenizer.chat_template is None:
        raise ValueError("the base model has no chat template; DP adapters are trained on chat examples")
    return str(tokenizer.apply_chat_template(template.messages(conditions), add_generation_prompt=True, tokenize=False))


def _batch_conditions(remaining: dict[Conditions, int], size: int) -> list[Conditions]:
    """``size`` prompts' conditions, the combinations with the most samples still wanted first."""
    left = dict(remaining)
    out: list[Conditions] = []
    for _ in range(size):
        pick = max(left, key=left.__getitem__)
        out.append(pick)
        left[pick] -= 1
    return out


def generate_samples(
    *,
    lm: TextModel,
    template: GenerationTemplate,
    n_samples: int,
    sampling: SamplingParams,
    batch_size: int = 16,
    max_attempts: int | None = None,
    seed: int = 0,
    embedder: SentenceEmbedder | None = None,
    similarity: float = 1.0,
    on_progress: Callable[[int, int], None] | None = None,
    wanted: dict[Conditions, int] | None = None,
) -> GenerationResult:
    """Sample until ``n_samples`` well-formed, distinct records exist or ``max_attempts`` are spent.

    Args:
        lm: the base model with the client's adapter (in this process: merged is fastest; or an engine).
        max_attempts: generations allowed in all (default ``3 * n_samples``).
        embedder, similarity: with an embedder, a sample whose cosine similarity to a kept one reaches
            ``similarity`` is a duplicate too (exact duplicates always are).
        on_progress: called with (kept, n_samples) after each batch.
        wanted: a conditioned template's samples per combination (``ConditionSpace.allocate``, summing to
            ``n_samples``); each prompt states its combination and each sample records it. With
            ``sampling.guidance`` > 0 each sample is also steered away from another value of its label
            (post-processing of the adapter: no privacy cost; twice the rows per decoding step).
    """
    import torch

    tokenizer = lm.tokenizer
    prefix = template.assistant_prefix()
    remaining = {c: k for c, k in (wanted or {(): n_samples}).items() if k > 0}
    if sum(remaining.values()) != n_samples:
        raise ValueError(f"the samples wanted per condition sum to {sum(remaining.values())}, not {n_samples}")
    prompts = {c: sampling_prompt(tokenizer, template, c) + prefix for c in remaining}
    contrasts = _contrast_prompts(tokenizer, template, list(remaining), prefix) if sampling.guidance > 0 else {}
    rng = random.Random(seed)
    budget = max_attempts if max_attempts is not None else 3 * n_samples
    result = GenerationResult()
    seen: set[str] = set()
    kept_vectors: Any = None
    while len(result.samples) < n_samples and result.attempts < budget:
        size = min(batch_size, budget - result.attempts)
        asked = _batch_conditions(remaining, size)
        negatives = [rng.choice(contrasts[c]) for c in asked] if contrasts else None
        texts = lm.sample([prompts[c] for c in asked], max_new_tokens=sampling.max_new_tokens,
                          temperature=sampling.temperature, top_k=sampling.top_k, top_p=sampling.top_p,
                          seed=seed + result.attempts, negative_prompts=negatives, guidance=sampling.guidance)
        result.attempts += size
        result.tokens += sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
        texts = [prefix + t for t in texts]
        candidates = []
        for text, conditions in zip(texts, asked, strict=True):
            fields = parse_record(template, text)
            if fields is None:
                result.malformed += 1
                continue
            key = _normalized(" ".join(fields.values()))
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            candidates.append(GeneratedSample(fields, text, conditions))
        if embedder is not None and candidates and similarity < 1.0:
            vectors = embedder.embed([" ".join(c.fields.values()) for c in candidates])
            pool = vectors if kept_vectors is None else torch.cat([kept_vectors, vectors])
            offset = 0 if kept_vectors is None else int(kept_vectors.shape[0])
            drop = near_duplicate_mask(pool, threshold=similarity)[offset:]
            result.duplicates += sum(drop)
            candidates = [c for c, d in zip(candidates, drop, strict=True) if not d]
            new = vectors[[i for i, d in enumerate(drop) if not d]]
            kept_vectors = new if kept_vectors is None else torch.cat([kept_vectors, new])
        for candidate in candidates:
            if remaining.get(candidate.conditions, 0) > 0:
                result.samples.append(candidate)
                remaining[candidate.conditions] -= 1
        if on_progress is not None:
            on_progress(len(result.samples), n_samples)
    return result


def _contrast_prompts(tokenizer: Any, template: GenerationTemplate, combinations: list[Conditions],
                      prefix: str) -> dict[Conditions, list[str]]:
    """Per combination, the prompts of the combinations guidance contrasts it with (another label)."""
    if template.conditions is None:
        raise ValueError("condition guidance needs an adapter whose template declares conditions")
    return {c: [sampling_prompt(tokenizer, template, x) + prefix for x in template.conditions.contrasts(c)]
            for c in combinations}


def _normalized(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()
