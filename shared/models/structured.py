"""Sampling records of known keys: the model writes only the values, the sampler writes the structure.

Each prompt ends where the first value starts (``{"age":"``). The model samples a value until it writes a
closing quote; the sampler then feeds the next key itself (``,"job":"``), and after the last value the
closing brace. The keys are public (the table's schema), so writing them adds nothing private; what the
model contributes, the values, is sampled exactly as ``shared.models.sampling`` samples any token.

Values can be held to public domains: a column with ``choices`` (categories the owner declared public,
the label's values) samples only tokens that continue one of them (a trie of their tokenizations) and
may close only on a complete one; a ``numeric`` column samples only digit, sign and point tokens, and
one with public bounds (``numbers``) only tokens after which the number can still end within them, and
closes only inside them (``shared.models.numbers``). The
model's probabilities are renormalized over what is allowed, so it still chooses among the categories;
only public information shapes the mask (post-processing of the DP model's output).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.models.generation import left_padded, model_device
from shared.models.numbers import NumberDomain
from shared.models.sampling import _draw


class _Trie:
    """Token-id paths of the allowed strings; ``end`` marks nodes where a whole string is written."""

    def __init__(self) -> None:
        self.children: dict[int, _Trie] = {}
        self.end = False

    @classmethod
    def of(cls, tokenizer: Any, strings: Sequence[str]) -> _Trie:
        root = cls()
        for text in strings:
            node = root
            for token in tokenizer(text, add_special_tokens=False)["input_ids"]:
                node = node.children.setdefault(token, cls())
            node.end = True
        return root


@dataclass(frozen=True)
class _Vocab:
    """Token ids by what their text starts with: a closing quote, or only number characters."""

    quote: list[int]
    number: list[int]
    number_texts: list[str]

    @classmethod
    def of(cls, tokenizer: Any) -> _Vocab:
        quote, number, texts = [], [], []
        for token in range(len(tokenizer)):
            text = tokenizer.decode([token])
            if text.startswith('"'):
                quote.append(token)
            elif text and all(ch in "0123456789.-" for ch in text):
                number.append(token)
                texts.append(text)
        return cls(quote, number, texts)


_VOCABS: dict[tuple[str, str, int], _Vocab] = {}


def _vocab(tokenizer: Any) -> _Vocab:
    key = (type(tokenizer).__name__, str(getattr(tokenizer, "name_or_path", "")), len(tokenizer))
    if key not in _VOCABS:
        _VOCABS[key] = _Vocab.of(tokenizer)
    return _VOCABS[key]


@dataclass
class _Row:
    keys: list[str]
    values: list[str] = field(default_factory=list)
    current: str = ""
    tokens: int = 0
    forced: list[int] = field(default_factory=list)
    done: bool = False
    failed: bool = False
    node: _Trie | None = None  # where a value with choices is in its trie
    tries: dict[str, _Trie] = field(default_factory=dict)  # this row's keys held to choices


def sample_values(
    model: Any, tokenizer: Any, prompts: Sequence[str], key_orders: Sequence[Sequence[str]], *,
    max_value_tokens: int = 16, temperature: float = 1.0, top_k: int = 50, top_p: float = 1.0,
    choices: Mapping[str, Sequence[str]] | None = None, numeric: Collection[str] = (),
    row_choices: Sequence[Mapping[str, Sequence[str]]] | None = None, numbers: Mapping[str, NumberDomain] | None = None,
) -> list[dict[str, str] | None]:
    """One record per prompt: its keys in ``key_orders[i]``, its values sampled (``None`` where the model
    ended, or ran past ``max_value_tokens`` in one value, before closing every value). ``choices`` (key ->
    allowed values), ``numeric`` (keys) and ``numbers`` (key -> public bounds of a numeric key) hold values
    to public domains; ``row_choices[i]`` narrows keys of row i further (a label drawn for it)."""
    import torch
    from transformers import DynamicCache

    tries = {key: _Trie.of(tokenizer, values) for key, values in (choices or {}).items() if values}
    rows = [_Row(list(keys)) for keys in key_orders]
    for i, row in enumerate(rows):
        extra = row_choices[i] if row_choices else {}
        row.tries = {**tries, **{key: _Trie.of(tokenizer, values) for key, values in extra.items() if values}}
        row.node = row.tries.get(row.keys[0])
    numeric = set(numeric) | set(numbers or {})
    vocab = _vocab(tokenizer) if any(row.tries for row in rows) or numeric else None
    device = model_device(model)
    batch = left_padded(tokenizer, prompts, add_special_tokens=False, device=device)
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
            logits = out.logits[:, -1, :]
            if vocab is not None:
                logits = _masked(logits, rows, numeric, vocab, numbers or {})
            sampled = _draw(logits, temperature=temperature, top_k=top_k, top_p=top_p).tolist()
            feed = [_advance(row, token, tokenizer, eos_ids, max_value_tokens, pad)
                    for row, token in zip(rows, sampled, strict=True)]
            if all(row.done for row in rows) and not any(row.forced for row in rows):
                break
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            position = position + 1
            out = model(input_ids=torch.tensor(feed, device=device)[:, None], attention_mask=mask, position_ids=position,
                        past_key_values=cache, use_cache=True)
    return [None if row.failed or not row.done else dict(zip(row.keys, row.values, strict=True)) for row in rows]


def _masked(logits: Any, rows: list[_Row], numeric: Collection[str], vocab: _Vocab,
            numbers: Mapping[str, NumberDomain]) -> Any:
    """The logits with every token a row's public domain does not allow at this point set to -inf."""
    out = None
    for i, row in enumerate(rows):
        if row.forced or row.done or len(row.values) >= len(row.keys):
            continue
        key = row.keys[len(row.values)]
        if row.node is not None:
            allowed = list(row.node.children) + (vocab.quote if row.node.end else [])
        elif key in numbers:
            domain = numbers[key]
            allowed = [t for t, text in zip(vocab.number, vocab.number_texts, strict=True)
                       if domain.feasible(row.current + text)]
            allowed += vocab.quote if domain.closes(row.current) else []
        elif key in numeric:
            allowed = vocab.number + (vocab.quote if row.current else [])
        else:
            continue
        if out is None:
            out = logits.clone()
        keep = out[i, allowed].clone()
        out[i] = float("-inf")
        out[i, allowed] = keep
    return logits if out is None else out


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
        if row.node is not None:  # a value held to choices: its trie bounds its length
            row.node = row.node.children.get(token)
        elif row.tokens > max_value_tokens:
            row.done = row.failed = True
        return token
    row.values.append(row.current + piece[:quote])
    row.node = row.tries.get(row.keys[len(row.values)]) if len(row.values) < len(row.keys) else None
    row.current, row.tokens = "", 0
    after = piece[quote + 1:]
    following = f",{json.dumps(row.keys[len(row.values)])}:\"" if len(row.values) < len(row.keys) else "}"
    if following.startswith(after):
        following = following[len(after):]
    row.forced = tokenizer(following, add_special_tokens=False)["input_ids"] if following else []
    if len(row.values) == len(row.keys):
        row.done = True
    return token
