"""Grade: the expert scores each sample by log-probabilities of "Yes" vs "No" to fixed questions.

No free text is parsed: for each criterion the grade is P(Yes) / (P(Yes) + P(No)) for the next token
after the question. A base (non-chat) expert gets a completion prompt ("...\\nQuestion: ...\\nAnswer:"),
a chat expert the same question as a user turn. The sample's grade is the mean over criteria, and the
reason names each criterion's score and the weakest one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CRITERIA: dict[str, str] = {
    "relevance": "Is this example about {domain}?",
    "fluency": "Is this example written in clear, fluent, well-formed language?",
    "plausibility": "Is the response a correct and sensible answer to the instruction?",
}


CONTENT_FREE = "Instruction: N/A\nResponse: N/A"


@dataclass(frozen=True)
class Grade:
    score: float
    criteria: dict[str, float]
    reason: str


def sample_text(fields: dict[str, str]) -> str:
    """How a sample is shown to the expert."""
    if fields.get("text"):
        return f"Text: {fields['text']}"
    parts = [f"Instruction: {fields.get('instruction', '')}"]
    if fields.get("input"):
        parts.append(f"Input: {fields['input']}")
    parts.append(f"Response: {fields.get('response', '')}")
    return "\n".join(parts)


def render_question(tokenizer: Any, sample: str, question: str, *, chat: bool) -> str:
    if chat:
        messages = [{"role": "user", "content": f"{sample}\n\n{question} Answer Yes or No."}]
        return str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
    return f"{sample}\nQuestion: {question}\nAnswer:"


def yes_probabilities(model: Any, tokenizer: Any, prompts: Sequence[str], *, chat: bool, batch_size: int = 8) -> list[float]:
    """P(Yes) / (P(Yes) + P(No)) for the token after each prompt (left-padded batches)."""
    import torch

    yes_id, no_id, suffix = _answer_ids(tokenizer, chat=chat)
    prompts = [p + suffix for p in prompts]
    out: list[float] = []
    previous_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(prompts), batch_size):
            chunk = list(prompts[start : start + batch_size])
            batch = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=not chat)
            with torch.inference_mode():
                logits = model(**batch, logits_to_keep=1).logits[:, -1, :].float()
            pair = torch.stack([logits[:, yes_id], logits[:, no_id]], dim=1).log_softmax(dim=1)
            out.extend(pair[:, 0].exp().tolist())
    finally:
        tokenizer.padding_side = previous_side
    return out


def grade_samples(
    *,
    model: Any,
    tokenizer: Any,
    samples: Sequence[dict[str, str]],
    domain: str,
    chat: bool,
    batch_size: int = 8,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Grade]:
    """Score every sample on every criterion; the order of the result follows ``samples``."""
    per_criterion: dict[str, list[float]] = {}
    texts = [sample_text(s) for s in samples]
    for i, (name, question) in enumerate(CRITERIA.items(), start=1):
        asked = question.format(domain=domain)
        prompts = [render_question(tokenizer, t, asked, chat=chat) for t in texts]
        raw = yes_probabilities(model, tokenizer, prompts, chat=chat, batch_size=batch_size)
        # Contextual calibration: small models lean to one answer whatever the sample; divide out the
        # answer prior they give to a content-free sample.
        prior = yes_probabilities(model, tokenizer, [render_question(tokenizer, CONTENT_FREE, asked, chat=chat)], chat=chat)[0]
        per_criterion[name] = [_calibrated(p, prior) for p in raw]
        if on_progress is not None:
            on_progress(i, len(CRITERIA))
    grades = []
    for j in range(len(samples)):
        scores = {name: per_criterion[name][j] for name in CRITERIA}
        weakest = min(scores, key=scores.__getitem__)
        reason = ", ".join(f"{k} {v:.2f}" for k, v in scores.items()) + f" (weakest: {weakest})"
        grades.append(Grade(score=sum(scores.values()) / len(scores), criteria=scores, reason=reason))
    return grades


def _calibrated(p_yes: float, prior_yes: float) -> float:
    """P(Yes) after dividing each answer's probability by its content-free prior."""
    eps = 1e-6
    yes = p_yes / max(prior_yes, eps)
    no = (1 - p_yes) / max(1 - prior_yes, eps)
    return yes / (yes + no)


def _answer_ids(tokenizer: Any, *, chat: bool) -> tuple[int, int, str]:
    """The first token of each answer word as it follows the prompt, and text to append to the prompt.

    After "Answer:" the word comes with a leading space (" Yes" is one token in most vocabularies);
    where the space is a token of its own, it goes into the prompt instead.
    """
    for prefix, suffix in ((("", ""),) if chat else ((" ", ""), ("", " "))):
        yes = tokenizer(prefix + "Yes", add_special_tokens=False)["input_ids"]
        no = tokenizer(prefix + "No", add_special_tokens=False)["input_ids"]
        if yes and no and yes[0] != no[0]:
            return yes[0], no[0], suffix
    raise ValueError("the expert's tokenizer cannot tell 'Yes' from 'No' by their first token")
