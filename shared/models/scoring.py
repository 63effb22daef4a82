"""Scoring text by a model's log-probabilities: the distribution over fixed answer options for the next
token, and the mean log-probability of a continuation. Used by the server's expert grading and by the
client's evaluation (judging, membership inference, canary exposure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from shared.models.generation import left_padded, model_device


def option_probabilities(
    model: Any, tokenizer: Any, prompts: Sequence[str], options: Sequence[str], *, chat: bool, batch_size: int = 8
) -> list[list[float]]:
    """For each prompt, the distribution over ``options`` of the next token (left-padded batches)."""
    import torch

    ids, suffix = option_token_ids(tokenizer, options, chat=chat)
    prompts = [p + suffix for p in prompts]
    out: list[list[float]] = []
    for start in range(0, len(prompts), batch_size):
        batch = left_padded(tokenizer, prompts[start : start + batch_size], add_special_tokens=not chat,
                            device=model_device(model))
        with torch.inference_mode():
            logits = model(**batch, logits_to_keep=1).logits[:, -1, :].float()
        out.extend(logits[:, ids].log_softmax(dim=1).exp().tolist())
    return out


def continuation_logprobs(
    model: Any, tokenizer: Any, contexts: Sequence[str], continuations: Sequence[str], *, batch_size: int = 8,
    add_special_tokens: bool = True, reduce: Literal["mean", "sum"] = "mean",
) -> list[float]:
    """Log-probability of each continuation after its context (right-padded batches): the mean per
    token (``reduce="mean"``) or the sum (``"sum"``). Pass ``add_special_tokens=False`` for contexts
    that already hold them (chat-template text)."""
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out: list[float] = []
    for start in range(0, len(contexts), batch_size):
        rows, tails = [], []
        for context, continuation in zip(contexts[start : start + batch_size], continuations[start : start + batch_size],
                                         strict=True):
            head = tokenizer(context, add_special_tokens=add_special_tokens)["input_ids"]
            tail = tokenizer(continuation, add_special_tokens=False)["input_ids"] or [pad]
            rows.append(head + tail)
            tails.append(len(tail))
        # left padding: every row ends at the last column, so only the last max(tail) positions need the
        # (large) vocabulary projection
        width = max(len(r) for r in rows)
        device = model_device(model)
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
        positions = (mask.cumsum(dim=-1) - 1).clamp(min=0)
        keep = max(tails) + 1
        with torch.inference_mode():
            logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep).logits
            logprobs = logits.float().log_softmax(dim=-1)  # column j predicts token width - keep + j + 1
        for row, n in enumerate(tails):
            targets = ids[row, width - n :]
            picked = logprobs[row, keep - 1 - n : keep - 1].gather(1, targets[:, None])
            out.append(float(picked.sum() if reduce == "sum" else picked.mean()))
    return out


def option_token_ids(tokenizer: Any, options: Sequence[str], *, chat: bool) -> tuple[list[int], str]:
    """The first token of each option as it follows the prompt, and text to append to the prompt.

    After "Answer:" the word comes with a leading space (" Yes" is one token in most vocabularies);
    where the space is a token of its own, it goes into the prompt instead. Options must differ in
    their first token.
    """
    for prefix, suffix in ((("", ""),) if chat else ((" ", ""), ("", " "))):
        ids = [tokenizer(prefix + option.strip(), add_special_tokens=False)["input_ids"] for option in options]
        firsts = [i[0] for i in ids if i]
        if len(firsts) == len(options) and len(set(firsts)) == len(options):
            return firsts, suffix
    raise ValueError(f"the expert's tokenizer cannot tell the options {list(options)} apart by their first token")
