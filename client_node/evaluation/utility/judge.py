"""Pairwise win rate judged by an expert model, in both answer orders to cancel its position bias.

For each instruction the judge sees two answers and is asked which is better; its preference is the
log-odds of the option tokens. With the candidate first and then second, a constant lean towards one
position adds to one log-odds and subtracts from the other, so their mean is free of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shared.models.scoring import option_probabilities

OPTIONS = ("A", "B")
QUESTION = "Which answer follows the instruction better, as a real customer would write it: A or B?"


@dataclass(frozen=True)
class WinRate:
    """Wins count 1, ties 1/2; ``preference`` is the mean order-free log-odds for the candidate."""

    win_rate: float
    wins: int
    ties: int
    losses: int
    preference: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge_prompt(tokenizer: Any, instruction: str, first: str, second: str, *, chat: bool) -> str:
    body = f"Instruction: {instruction}\n\nAnswer A: {first}\n\nAnswer B: {second}\n\n{QUESTION}"
    if chat:
        messages = [{"role": "user", "content": body}]
        return str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
    return f"{body}\nAnswer:"


def pairwise_preferences(
    judge: Any, tokenizer: Any, instructions: Sequence[str], candidate: Sequence[str], reference: Sequence[str], *,
    chat: bool, batch_size: int = 8,
) -> list[float]:
    """Per instruction, the judge's order-averaged log-odds that the candidate answer is the better one."""
    import math

    if not len(instructions) == len(candidate) == len(reference):
        raise ValueError("instructions and answers differ in length")
    first = [judge_prompt(tokenizer, i, c, r, chat=chat) for i, c, r in zip(instructions, candidate, reference, strict=True)]
    second = [judge_prompt(tokenizer, i, r, c, chat=chat) for i, c, r in zip(instructions, candidate, reference, strict=True)]
    p_first = option_probabilities(judge, tokenizer, first, OPTIONS, chat=chat, batch_size=batch_size)
    p_second = option_probabilities(judge, tokenizer, second, OPTIONS, chat=chat, batch_size=batch_size)

    def logit(p: float) -> float:
        p = min(max(p, 1e-9), 1 - 1e-9)
        return math.log(p / (1 - p))

    return [(logit(a[0]) + logit(b[1])) / 2 for a, b in zip(p_first, p_second, strict=True)]


def win_rate(preferences: Sequence[float], *, tie_margin: float = 0.05) -> WinRate:
    """Wins where the preference exceeds ``tie_margin`` nats, losses below its negative, ties between."""
    if not preferences:
        raise ValueError("no judgements")
    wins = sum(p > tie_margin for p in preferences)
    losses = sum(p < -tie_margin for p in preferences)
    ties = len(preferences) - wins - losses
    return WinRate(win_rate=(wins + ties / 2) / len(preferences), wins=wins, ties=ties, losses=losses,
                   preference=sum(preferences) / len(preferences))
