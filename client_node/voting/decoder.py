"""The token loop: every group's prompt and the public prompt advance together on one KV cache; at each
step the groups vote over the public prompt's top candidates and the noisy winner is appended to all.

The prompts are encoded once (``VotingPrompts``) and their cache is copied for each sample, so a sample
costs its own tokens only. Only the aggregate's noisy argmax leaves this loop; the groups' logits and
votes are dropped each step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.mechanisms import VoteAggregator, VoteKind
from shared.mechanisms.noisy_max import vote_histogram
from shared.models.generation import left_padded, model_device


class BudgetSpent(Exception):
    """The stratum has no token left in its plan."""


@dataclass(frozen=True)
class VotedText:
    """One generated continuation: its text, tokens, and whether it ended by itself (an end token)."""

    text: str
    tokens: int
    finished: bool


class VotingPrompts:
    """The groups' prompts and the public prompt (last row), encoded once on one left-padded KV cache."""

    def __init__(self, model: Any, tokenizer: Any, *, group_prompts: Sequence[str], public_prompt: str) -> None:
        import torch
        from transformers import DynamicCache

        if not group_prompts:
            raise ValueError("vote decoding needs at least one group")
        self.model, self.tokenizer, self.rows = model, tokenizer, len(group_prompts) + 1
        self.device = model_device(model)
        batch = left_padded(tokenizer, [*group_prompts, public_prompt], add_special_tokens=False, device=self.device)
        self.mask = batch["attention_mask"]
        positions = (self.mask.cumsum(dim=-1) - 1).clamp(min=0)
        self.cache = DynamicCache()
        with torch.inference_mode():
            out = model(input_ids=batch["input_ids"], attention_mask=self.mask, position_ids=positions,
                        past_key_values=self.cache, use_cache=True, logits_to_keep=1)
        self.last_logits = out.logits[:, -1, :].float()
        self.next_position = positions[:, -1:] + 1
        eos = model.generation_config.eos_token_id if model.generation_config.eos_token_id is not None else tokenizer.eos_token_id
        self.eos_ids = sorted(set(eos if isinstance(eos, list) else [eos]))

    def decode(
        self, *, start: str, aggregator: VoteAggregator, max_new_tokens: int,
        candidates: int = 8, vote: VoteKind = VoteKind.HARD, before_token: Callable[[], None] = lambda: None,
    ) -> VotedText:
        """Continue every prompt with the public text ``start``, then up to ``max_new_tokens`` voted tokens.

        ``before_token`` runs before each query (the ledger charge); it raises ``BudgetSpent`` to stop, and
        the text so far is returned unfinished. The candidates come from the public prompt alone, and the
        model's end tokens are always among them so a sample can end.
        """
        import torch

        cache = copy.deepcopy(self.cache)
        mask, position = self.mask, self.next_position
        dtype = self.mask.dtype
        start_ids = self.tokenizer(start, add_special_tokens=False, return_tensors="pt")["input_ids"].to(self.device) \
            if start else None
        new: list[int] = []
        finished = False
        with torch.inference_mode():
            logits = self.last_logits
            step = None if start_ids is None or start_ids.shape[1] == 0 else start_ids.expand(self.rows, -1)
            while True:
                if step is not None:
                    width = step.shape[1]
                    mask = torch.cat([mask, torch.ones((self.rows, width), dtype=dtype, device=self.device)], dim=1)
                    out = self.model(input_ids=step, attention_mask=mask, position_ids=position + torch.arange(width, device=self.device),
                                     past_key_values=cache, use_cache=True, logits_to_keep=1)
                    position = position + width
                    logits = out.logits[:, -1, :].float()
                if len(new) >= max_new_tokens:
                    break
                top = logits[-1].topk(min(candidates, logits.shape[-1])).indices.tolist()
                ids = top + [e for e in self.eos_ids if e not in top]
                try:
                    before_token()
                except BudgetSpent:
                    break
                token = ids[aggregator.choose(vote_histogram(logits[:-1, ids].cpu().numpy(), vote))]
                new.append(token)
                if token in self.eos_ids or len(new) >= max_new_tokens:
                    finished = token in self.eos_ids
                    break
                step = torch.full((self.rows, 1), token, dtype=torch.long, device=self.device)
        return VotedText(text=self.tokenizer.decode(new, skip_special_tokens=True), tokens=len(new), finished=finished)
