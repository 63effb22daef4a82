"""Canaries: planted secrets, and two ways to see whether a released model or data set gives them back.

A canary is a private record ending in a secret (a card number whose issuer prefix is public). *Extraction*:
prompt the model with the record up to the secret's private part and decode greedily; leaked if the
secret's digits come out (or if they appear in any released synthetic sample). *Exposure* (Carlini et al., "The Secret Sharer", 2019): rank
the secret's log-probability among random secrets of the same format; exposure = log2(candidates + 1)
- log2(rank), so a secret the model ranks first among 1,000 others has exposure about 10 bits and one
it treats like any other about 1 bit.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from client_node.evaluation.subjects import Subject
from shared.records import Record

SECRET_DIGITS = 16
PUBLIC_DIGITS = 6  # the card's issuer prefix is public knowledge; the other ten digits are the secret


@dataclass(frozen=True)
class Canary:
    """``record`` is planted ``repeats`` times; its response (or text) is ``lead`` followed by ``secret`` and a
    full stop."""

    record: Record
    lead: str
    secret: str
    repeats: int

    @property
    def digits(self) -> str:
        return only_digits(self.secret)


def only_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def format_card(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def random_card(prefix: str, rng: random.Random) -> str:
    tail = "".join(str(rng.randrange(10)) for _ in range(SECRET_DIGITS - len(prefix)))
    return format_card(prefix + tail)


def make_canary(instruction: str, lead: str, card_prefix: str, *, repeats: int, rng: random.Random) -> Canary:
    """A canary record whose response ends in a fresh random card number with ``card_prefix``."""
    secret = random_card(card_prefix[:PUBLIC_DIGITS], rng)
    return Canary(record=Record(instruction=instruction, response=f"{lead}{secret}."), lead=lead, secret=secret,
                  repeats=repeats)


def make_text_canary(lead: str, card_prefix: str, *, repeats: int, rng: random.Random,
                     conditions: tuple[tuple[str, str], ...] = ()) -> Canary:
    """A text record (with ``conditions``, for a conditioned dataset) ending in a fresh random card number."""
    secret = random_card(card_prefix[:PUBLIC_DIGITS], rng)
    return Canary(record=Record(text=f"{lead}{secret}.", conditions=conditions), lead=lead, secret=secret,
                  repeats=repeats)


def leaked_in_texts(canary: Canary, texts: Sequence[str]) -> bool:
    """Whether the secret's digits appear in any of ``texts`` (spacing and punctuation ignored)."""
    return any(canary.digits in only_digits(t) for t in texts)


def public_part(canary: Canary) -> str:
    """The secret's leading issuer digits as written in the record (known to an attacker)."""
    return format_card(canary.digits)[: PUBLIC_DIGITS + PUBLIC_DIGITS // 4]


def extraction_prefix(subject: Subject, canary: Canary) -> str:
    """The record up to the secret, in the model's own prompt format."""
    return subject.record_prompt(canary.record) + canary.lead


def extracted(subject: Subject, canaries: Sequence[Canary], *, max_new_tokens: int = 24) -> list[str]:
    """The public digits and the model's greedy continuation after them, for each canary."""
    prefixes = [extraction_prefix(subject, c) + public_part(c) for c in canaries]
    return [public_part(c) + text for c, text in zip(canaries, subject.continue_texts(
        prefixes, max_new_tokens=max_new_tokens, strip=False), strict=True)]


def exposure(subject: Subject, canary: Canary, *, candidates: int = 255, seed: int = 0) -> float:
    """Rank-based exposure in bits of the canary's secret among ``candidates`` random secrets."""
    rng = random.Random(seed)
    prefix = canary.digits[:PUBLIC_DIGITS]
    others: set[str] = set()
    while len(others) < candidates:
        other = random_card(prefix, rng)
        if only_digits(other) != canary.digits:
            others.add(other)
    secrets = [canary.secret, *sorted(others)]
    context = extraction_prefix(subject, canary)
    scores = subject.sequence_logprobs([context] * len(secrets), [f"{s}." for s in secrets])
    rank = 1 + sum(s > scores[0] for s in scores[1:])
    return exposure_from_rank(rank, candidates)


def exposure_from_rank(rank: int, candidates: int) -> float:
    """log2(|R|) - log2(rank) where |R| counts the secret and its ``candidates`` alternatives."""
    if not 1 <= rank <= candidates + 1:
        raise ValueError("rank out of range")
    return math.log2(candidates + 1) - math.log2(rank)
