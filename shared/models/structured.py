"""Sampling records of known keys: the model writes only the values, the sampler writes the structure.

Each prompt ends where the first value starts (``{"age":"``). The model samples a value until it writes a
closing quote; the sampler then feeds the next key itself (``,"job":"``), and after the last value the
closing brace. The keys are public (the table's schema), so writing them adds nothing private; what the
model contributes, the values, is sampled exactly as ``shared.models.sampling`` samples any token.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.models.generation import left_padded
from shared.models.sampling import _draw


@dataclass
class _Row:
    keys: list[str]
    values: list[str] = field(default_factory=list)
    current: str = ""
    tokens: int = 0
    forced: list[int] = field(default_factory=list)
    done: bool = False
    failed: bool = False


def sample_values(
    model: Any, tokenizer: Any, prompts: Sequence[str], key_orders: Sequence[Sequence[str]], *,
    max_value_tokens: int = 16, temperature: float = 1.0, top_k: int = 50, top_p: float = 1.0,
) -> list[dict[str, str] | None]:
    """One record per prompt: its keys in ``key_orders[i]``, its values sampled (``None`` where the model
    ended, or ran past ``max_value_tokens`` in one value, before closing every value)."""
    import torch
    from transformers import DynamicCache

    rows = [_Row(list(keys)) for keys in key_orders]
    batch = left_padded(tokenizer, prompts, add_special_tokens=False)
    mask = batch["attention_mask"]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    eos = model.generation_config.eos_token_id if model.generation_config.eos_token_id is not None else tokenizer.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos])
    positions = (mask.cumsum(dim=-1) - 1).clamp(min=0)
    cache = DynamicCache()
    steps = max(len(r.keys) for r in rows) * (max_value_tokens + 12) + 4
    with torch.inference_mode():
        out = model(input_ids=batch["input_ids"], attention_mask=mask, position_ids=positions, past_key_values=cache,
                    use_cache=True, logits_to_keep=1)
        position = positions[:, -1:]
        for _ in range(steps):
            sampled = _draw(out.logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p).tolist()
            feed = [_advance(row, token, tokenizer, eos_ids, max_value_tokens, pad) for row, token in zip(rows, sampled, strict=True)]
            if all(row.done for row in rows) and not any(row.forced for row in rows):
                break
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            position = position + 1
            out = model(input_ids=torch.tensor(feed)[:, None], attention_mask=mask, position_ids=position,
                        past_key_values=cache, use_cache=True)
    return [None if row.failed or not row.done else dict(zip(row.keys, row.values, strict=True)) for row in rows]


def _advance(row: _Row, token: int, tokenizer: Any, eos_ids: set[int], max_value_tokens: int, pad: int) -> int:
    """The token this row feeds next: a forced structure token, or the sampled one (recorded)."""
    if row.forced:
        return row.forced.pop(0)
    if row.done:
        return pad
    if token in eos_ids:
        row.done = row.failed = True
        return pad
    piece = tokenizer.decode([token])
    quote = piece.find('"')
    if quote == -1:
        row.current += piece
        row.tokens += 1
        if row.tokens > max_value_tokens:
            row.done = row.failed = True
        return token
    row.values.append(row.current + piece[:quote])
    row.current, row.tokens = "", 0
    after = piece[quote + 1:]
    following = f",{json.dumps(row.keys[len(row.values)])}:\"" if len(row.values) < len(row.keys) else "}"
    if following.startswith(after):
        following = following[len(after):]
    row.forced = tokenizer(following, add_special_tokens=False)["input_ids"] if following else []
    if len(row.values) == len(row.keys):
        row.done = True
    return token
