"""Plain batched text generation: chat prompts or completion prompts, greedy or sampled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.models.loading import LoadedModel


def generate_chat(
    loaded: LoadedModel,
    conversations: Sequence[Sequence[dict[str, str]]],
    *,
    max_new_tokens: int = 64,
    temperature: float = 0.0,
    top_p: float = 1.0,
) -> list[str]:
    """Answer each conversation (list of chat messages) with the tokenizer's chat template."""
    tokenizer = loaded.tokenizer
    if tokenizer.chat_template is None:
        raise ValueError(f"{loaded.resolved.model_id} has no chat template; use generate_completion")
    prompts = [
        tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
        for messages in conversations
    ]
    return generate_texts(loaded.model, tokenizer, prompts, max_new_tokens=max_new_tokens, temperature=temperature,
                          top_p=top_p, add_special_tokens=False)


def generate_completion(
    loaded: LoadedModel,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 64,
    temperature: float = 0.0,
    top_p: float = 1.0,
) -> list[str]:
    """Continue each plain-text prompt (for base models without a chat template)."""
    return generate_texts(loaded.model, loaded.tokenizer, list(prompts), max_new_tokens=max_new_tokens,
                          temperature=temperature, top_p=top_p, add_special_tokens=True)


def model_device(model: Any) -> Any:
    """The device a model's weights are on (where its inputs must be)."""
    try:
        return next(model.parameters()).device
    except (StopIteration, AttributeError):
        import torch

        return torch.device("cpu")


def left_padded(tokenizer: Any, prompts: Sequence[str], *, add_special_tokens: bool, device: Any = None,
                multiple_of: int | None = None) -> Any:
    """A tensor batch padded on the left (decoder-only models continue from the right edge), on ``device``;
    its length rounded up to ``multiple_of`` when given (fewer distinct shapes for compiled steps)."""
    previous_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        batch = tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=add_special_tokens,
                          pad_to_multiple_of=multiple_of)
    finally:
        tokenizer.padding_side = previous_side
    return batch if device is None else batch.to(device)


def generate_texts(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    top_k: int = 50,
    add_special_tokens: bool = False,
) -> list[str]:
    """One batched ``generate`` over already-rendered prompts (left-padded); returns the new text of each.

    The plain transformers path (the baseline ``bench/server_generation.py`` compares the server's
    sampler, ``shared.models.sampling``, against).
    """
    import torch

    batch = left_padded(tokenizer, prompts, add_special_tokens=add_special_tokens, device=model_device(model))
    sampling = temperature > 0
    with torch.inference_mode():
        output = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=sampling,
            temperature=temperature if sampling else None,
            top_p=top_p if sampling else None,
            top_k=top_k if sampling else None,
            pad_token_id=tokenizer.pad_token_id,
        )
    new_tokens = output[:, batch["input_ids"].shape[1] :]
    return [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
