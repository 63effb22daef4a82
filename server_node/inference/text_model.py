"""TextModel: the three things the pipeline asks of a language model, whoever runs it.

Sampling continuations, the distribution over fixed answer options for the next token, the
log-probability of a continuation, and the top log-probabilities of the next token. The pipeline stages (generate, grade, rewrite) take a TextModel, so
the same code runs on a model in this process or on an inference engine over HTTP. Prompts are text;
each implementation tokenizes with the model's own tokenizer, which is also exposed for chat templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from shared.models.generation import left_padded, model_device
from shared.models.sampling import sample_texts
from shared.models.scoring import continuation_logprobs, option_probabilities


class TextModel(Protocol):
    tokenizer: Any

    def sample(self, prompts: Sequence[str], *, max_new_tokens: int, temperature: float = 1.0, top_k: int = 50,
               top_p: float = 1.0, add_special_tokens: bool = False, seed: int | None = None,
               negative_prompts: Sequence[str] | None = None, guidance: float = 0.0) -> list[str]:
        """The new text after each prompt, stripped; ``seed`` makes a call reproducible. With ``guidance`` > 0,
        tokens are pushed away from what each ``negative_prompts`` entry would write (condition guidance)."""
        ...

    def option_probabilities(self, prompts: Sequence[str], options: Sequence[str], *, chat: bool,
                             batch_size: int = 8) -> list[list[float]]:
        """For each prompt, the distribution over ``options`` (by first token) of the next token."""
        ...

    def continuation_logprobs(self, contexts: Sequence[str], continuations: Sequence[str], *, batch_size: int = 8,
                              add_special_tokens: bool = True, reduce: Literal["mean", "sum"] = "mean") -> list[float]:
        """The mean (or summed) log-probability of each continuation after its context."""
        ...

    def next_token_logprobs(self, prompts: Sequence[str], *, top: int = 20,
                            add_special_tokens: bool = False) -> list[dict[int, float]]:
        """The ``top`` most likely next tokens after each prompt: token id -> log-probability."""
        ...


class LocalTextModel:
    """A transformers model in this process (the embedded default)."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model, self.tokenizer = model, tokenizer

    def sample(self, prompts: Sequence[str], *, max_new_tokens: int, temperature: float = 1.0, top_k: int = 50,
               top_p: float = 1.0, add_special_tokens: bool = False, seed: int | None = None,
               negative_prompts: Sequence[str] | None = None, guidance: float = 0.0) -> list[str]:
        if seed is not None:
            import torch

            torch.manual_seed(seed)
        return sample_texts(self.model, self.tokenizer, prompts, max_new_tokens=max_new_tokens, temperature=temperature,
                            top_k=top_k, top_p=top_p, add_special_tokens=add_special_tokens,
                            negative_prompts=negative_prompts, guidance=guidance)

    def option_probabilities(self, prompts: Sequence[str], options: Sequence[str], *, chat: bool,
                             batch_size: int = 8) -> list[list[float]]:
        return option_probabilities(self.model, self.tokenizer, prompts, options, chat=chat, batch_size=batch_size)

    def continuation_logprobs(self, contexts: Sequence[str], continuations: Sequence[str], *, batch_size: int = 8,
                              add_special_tokens: bool = True, reduce: Literal["mean", "sum"] = "mean") -> list[float]:
        return continuation_logprobs(self.model, self.tokenizer, contexts, continuations, batch_size=batch_size,
                                     add_special_tokens=add_special_tokens, reduce=reduce)

    def next_token_logprobs(self, prompts: Sequence[str], *, top: int = 20,
                            add_special_tokens: bool = False) -> list[dict[int, float]]:
        import torch

        batch = left_padded(self.tokenizer, prompts, add_special_tokens=add_special_tokens,
                            device=model_device(self.model))
        with torch.inference_mode():
            logits = self.model(**batch, logits_to_keep=1).logits[:, -1, :].float()
        values, ids = logits.log_softmax(dim=-1).topk(top, dim=-1)
        return [dict(zip(i.tolist(), v.tolist(), strict=True)) for i, v in zip(ids, values, strict=True)]
