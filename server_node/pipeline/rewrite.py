"""Rewrite: the expert writes its own response to each kept instruction (knowledge distillation).

A base (non-chat) expert gets a completion prompt with one fixed, data-free example so it answers in
kind and stops; a chat expert gets the instruction as a user turn. Each response is cut at the point
where a base model starts a new question. Samples whose rewrite comes back empty keep their original
response and are marked as not rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.protocol import SamplingParams

if TYPE_CHECKING:
    from server_node.inference.text_model import TextModel

_FEW_SHOT = ("Question: How long should I rest after a mild ankle sprain?\n"
             "Answer: Rest the ankle for two to three days, keep it raised, and use a cold pack for 20 minutes at a "
             "time. See a doctor if you cannot put weight on it.\n\n")
_STOP_MARKERS = ("\nQuestion:", "\n\n\n", "\nInstruction:")


@dataclass(frozen=True)
class Rewritten:
    fields: dict[str, str]
    rewritten: bool


def rewrite_prompt(tokenizer: Any, instruction: str, *, chat: bool) -> str:
    if chat:
        return str(tokenizer.apply_chat_template([{"role": "user", "content": instruction}], add_generation_prompt=True,
                                                 tokenize=False))
    return f"{_FEW_SHOT}Question: {instruction}\nAnswer:"


def rewrite_samples(
    *,
    lm: TextModel,
    samples: Sequence[dict[str, str]],
    chat: bool,
    sampling: SamplingParams,
    batch_size: int = 8,
    seed: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Rewritten]:
    """The expert's response for every instruction-style sample (text samples pass through unchanged)."""
    out: list[Rewritten] = [Rewritten(dict(s), False) for s in samples]
    todo = [i for i, s in enumerate(samples) if s.get("instruction")]
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        prompts = [rewrite_prompt(lm.tokenizer, samples[i]["instruction"], chat=chat) for i in chunk]
        texts = lm.sample(prompts, max_new_tokens=sampling.max_new_tokens, temperature=sampling.temperature,
                          top_k=sampling.top_k, top_p=sampling.top_p, add_special_tokens=not chat,
                          seed=None if seed is None else seed + start)
        for i, text in zip(chunk, texts, strict=True):
            response = _cut(text)
            if response:
                out[i] = Rewritten({**samples[i], "response": response}, True)
        if on_progress is not None:
            on_progress(min(start + batch_size, len(todo)), len(todo))
    return out


def _cut(text: str) -> str:
    for marker in _STOP_MARKERS:
        text = text.split(marker, 1)[0]
    return text.strip()
