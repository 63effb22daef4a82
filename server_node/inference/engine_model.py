"""EngineTextModel: a TextModel served by an OpenAI-compatible engine (vLLM), through /v1/completions.

Prompts are tokenized here with the served model's tokenizer and sent as token ids, so the engine sees
exactly the tokens the in-process model would. Sampling sends one request per prompt, each with its own
seed (a batch of identical prompts with one seed would give identical samples), concurrently: the engine
batches them with other jobs' requests. Log-probabilities come from ``echo`` with ``logprobs``: the
engine returns the log-probability of every prompt token, from which a continuation's is read off; the
distribution over answer options is each option's first-token log-probability, renormalized over the
options (what the in-process grader computes from the logits).

Prompt log-probabilities are not read under a client's LoRA adapter: vLLM's LoRA logits path maps
adapters per request, not per prompt token, and its CPU kernels crash the engine on such batches (vLLM
issues 29955, 16668). The pipeline never needs them (generation only samples from the adapter), and
``next_token_logprobs`` (the sampler's own log-probabilities) is what shows an adapter's effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from server_node.inference.engine_client import EngineClient
from shared.errors import InferenceEngineRequestError, SamplingGuidanceError
from shared.models.scoring import option_token_ids


class EngineTextModel:
    """``model`` is the name the engine serves: the base model, the expert, or a loaded LoRA adapter."""

    def __init__(self, client: EngineClient, model: str, tokenizer: Any, *, prompt_logprobs: bool = True) -> None:
        self.client, self.model, self.tokenizer = client, model, tokenizer
        self.prompt_logprobs = prompt_logprobs

    def sample(self, prompts: Sequence[str], *, max_new_tokens: int, temperature: float = 1.0, top_k: int = 50,
               top_p: float = 1.0, add_special_tokens: bool = False, seed: int | None = None,
               negative_prompts: Sequence[str] | None = None, guidance: float = 0.0) -> list[str]:
        if guidance > 0:
            raise SamplingGuidanceError("condition guidance needs token-level decoding, which an inference engine "
                                        "does not expose; use the local backend or sampling.guidance 0")
        ids = [self._ids(p, add_special_tokens) for p in prompts]
        base = {"model": self.model, "max_tokens": max_new_tokens, "temperature": max(0.0, temperature),
                "top_p": top_p, "top_k": top_k if top_k > 0 else -1, "skip_special_tokens": True}

        def one(i: int) -> str:
            body = {**base, "prompt": ids[i]}
            if seed is not None:
                body["seed"] = seed + i
            return str(self._choices(self.client.post("/v1/completions", body), 1)[0]["text"]).strip()

        return self.client.map(one, range(len(ids)))

    def next_token_logprobs(self, prompts: Sequence[str], *, top: int = 20,
                            add_special_tokens: bool = False) -> list[dict[int, float]]:
        ids = [self._ids(p, add_special_tokens) for p in prompts]

        def one(row: list[int]) -> dict[int, float]:
            answer = self.client.post("/v1/completions", {
                "model": self.model, "prompt": row, "max_tokens": 1, "temperature": 0.0, "logprobs": top,
                "return_tokens_as_token_ids": True})
            tops = ((self._choices(answer, 1)[0].get("logprobs") or {}).get("top_logprobs") or [{}])[0]
            return {int(token.split(":", 1)[1]): float(value) for token, value in tops.items()}

        return self.client.map(one, ids)

    def option_probabilities(self, prompts: Sequence[str], options: Sequence[str], *, chat: bool,
                             batch_size: int = 8) -> list[list[float]]:
        option_ids, suffix = option_token_ids(self.tokenizer, options, chat=chat)
        rows = [self._ids(p + suffix, not chat) + [o] for p in prompts for o in option_ids]
        last = [lps[-1] for lps in self._prompt_logprobs(rows, batch_size * len(option_ids))]
        out = []
        for start in range(0, len(last), len(option_ids)):
            group = last[start : start + len(option_ids)]
            top = max(group)
            weights = [math.exp(x - top) for x in group]
            out.append([w / sum(weights) for w in weights])
        return out

    def continuation_logprobs(self, contexts: Sequence[str], continuations: Sequence[str], *, batch_size: int = 8,
                              add_special_tokens: bool = True, reduce: Literal["mean", "sum"] = "mean") -> list[float]:
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        rows, tails = [], []
        for context, continuation in zip(contexts, continuations, strict=True):
            tail = self._ids(continuation, False) or [pad]
            rows.append(self._ids(context, add_special_tokens) + tail)
            tails.append(len(tail))
        out = []
        for lps, n in zip(self._prompt_logprobs(rows, batch_size), tails, strict=True):
            picked = lps[len(lps) - n :]
            out.append(sum(picked) if reduce == "sum" else sum(picked) / n)
        return out

    # --- helpers ---------------------------------------------------------------------------------

    def _ids(self, text: str, add_special_tokens: bool) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])

    def _prompt_logprobs(self, rows: list[list[int]], batch_size: int) -> list[list[float]]:
        """For each token-id row, the log-probability of each of its tokens after the ones before it
        (the first token has none and is left out)."""
        if not self.prompt_logprobs:
            raise InferenceEngineRequestError(
                f"prompt log-probabilities are not read under a LoRA adapter ({self.model}): vLLM's LoRA logits "
                "path is wrong for them (vLLM issues 29955, 16668); use next_token_logprobs",
                detail={"model": self.model})
        chunks = [rows[i : i + batch_size] for i in range(0, len(rows), max(1, batch_size))]

        def one(chunk: list[list[int]]) -> list[list[float]]:
            answer = self.client.post("/v1/completions", {"model": self.model, "prompt": chunk, "max_tokens": 1,
                                                          "temperature": 0.0, "echo": True, "logprobs": 0})
            out = []
            for row, choice in zip(chunk, self._choices(answer, len(chunk)), strict=True):
                values = ((choice.get("logprobs") or {}).get("token_logprobs") or [])[1 : len(row)]
                if len(values) != len(row) - 1 or any(v is None for v in values):
                    raise InferenceEngineRequestError(
                        f"the engine returned {len(values)} prompt log-probabilities for {len(row) - 1} prompt tokens "
                        "(does it support echo with logprobs?)", detail={"model": self.model})
                out.append([float(v) for v in values])
            return out

        return [lps for part in self.client.map(one, chunks) for lps in part]

    def _choices(self, answer: Any, expected: int) -> list[dict[str, Any]]:
        choices = sorted(answer.get("choices", []) if isinstance(answer, dict) else [], key=lambda c: c.get("index", 0))
        if len(choices) != expected:
            raise InferenceEngineRequestError(f"the engine answered {len(choices)} choices for {expected} prompts",
                                              detail={"model": self.model, "answer": str(answer)[:500]})
        return choices
