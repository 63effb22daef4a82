"""The benchmark's private data: balanced review sentiment (5 stars = positive, 1-2 stars = negative) from
Women's E-Commerce Clothing Reviews, with canaries and PII from presidio-evaluator's fake identities
planted into the private training split."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from client_node.datasets.public import Identity, Review, clothing_reviews, fake_identities
from client_node.evaluation.privacy.canaries import Canary, make_canary
from shared.records import Record

LABELS = ("positive", "negative")
MAX_WORDS = 60
TASK_DESCRIPTION = "customer reviews of clothing items, each either positive or negative"
DOMAIN = "customer reviews of clothing"

_ITEMS = {"Dresses": "dress", "Knits": "knit top", "Blouses": "blouse", "Sweaters": "sweater", "Pants": "pair of pants",
          "Jeans": "pair of jeans", "Fine gauge": "fine-gauge sweater", "Skirts": "skirt", "Jackets": "jacket",
          "Lounge": "loungewear set", "Swim": "swimsuit", "Outerwear": "coat", "Shorts": "pair of shorts",
          "Sleep": "nightgown", "Legwear": "pair of leggings", "Intimates": "bra", "Layering": "camisole",
          "Trend": "statement top"}


def label_of(review: Review) -> str | None:
    return "positive" if review.rating == 5 else "negative" if review.rating <= 2 else None


def instruction_for(label: str, item_class: str) -> str:
    return f"Write a {label} customer review of a {_ITEMS.get(item_class, 'clothing item')}."


def review_record(review: Review) -> Record:
    label = label_of(review)
    assert label is not None
    text = " ".join(review.text.split()[:MAX_WORDS])
    return Record(instruction=instruction_for(label, review.item_class), response=text)


@dataclass
class ReviewTask:
    """Splits are disjoint. ``train`` is the client's private data (canaries and PII planted in it);
    ``holdout`` are non-members from the same distribution; ``test`` scores TSTR."""

    train: list[Record]
    train_labels: list[str]
    holdout: list[Record]
    holdout_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    canaries: list[Canary] = field(default_factory=list)
    planted: list[Identity] = field(default_factory=list)

    @property
    def pii_items(self) -> set[str]:
        """Names, e-mails and card numbers planted in the private data (normalized as pii_in_texts does)."""
        items = {p.name.lower() for p in self.planted} | {p.email.lower() for p in self.planted}
        return items | {c.digits for c in self.canaries}


def build_review_task(
    wheels_dir: Path, *, n_train: int, n_holdout: int, n_test: int, canary_repeats: tuple[int, ...] = (1, 4, 16),
    pii_records: int = 10, seed: int = 0,
) -> ReviewTask:
    """Balanced splits (half positive, half negative each), canaries planted ``canary_repeats[i]`` times
    each, and ``pii_records`` records signed with a fake person's name and e-mail."""
    rng = random.Random(seed)
    by_label: dict[str, list[Review]] = {label: [] for label in LABELS}
    for review in clothing_reviews(wheels_dir):
        label = label_of(review)
        if label is not None:
            by_label[label].append(review)
    for reviews in by_label.values():
        rng.shuffle(reviews)
    need = (n_train + n_holdout + n_test + len(canary_repeats)) // 2 + 1
    if any(len(r) < need for r in by_label.values()):
        raise ValueError(f"the splits need {need} reviews of each label; {min(len(r) for r in by_label.values())} exist")

    def take(n: int) -> list[Review]:
        half = n // 2
        out = [by_label["positive"].pop() for _ in range(n - half)] + [by_label["negative"].pop() for _ in range(half)]
        rng.shuffle(out)
        return out

    train_reviews, holdout_reviews, test_reviews = take(n_train), take(n_holdout), take(n_test)
    identities = fake_identities(wheels_dir)
    rng.shuffle(identities)
    train = [review_record(r) for r in train_reviews]
    train_labels = [label_of(r) or "" for r in train_reviews]
    planted: list[Identity] = []
    for i in range(min(pii_records, len(train))):
        person = identities.pop()
        planted.append(person)
        record = train[i]
        train[i] = Record(instruction=record.instruction, response=f"{record.response} - {person.name}, {person.email}")
    canaries = []
    for repeats in canary_repeats:
        person = identities.pop()
        planted.append(person)
        source = take(2)[0]
        label = label_of(source) or "positive"
        lead = (" ".join(source.text.split()[:15]).rstrip(".,;!") + f". My name is {person.name}, my email is {person.email} "
                "and my card number is ")
        canary = make_canary(instruction_for(label, source.item_class), lead, person.card_prefix, repeats=repeats, rng=rng)
        canaries.append(canary)
        train += [canary.record] * repeats
        train_labels += [label] * repeats
    order = list(range(len(train)))
    rng.shuffle(order)
    return ReviewTask(
        train=[train[i] for i in order], train_labels=[train_labels[i] for i in order],
        holdout=[review_record(r) for r in holdout_reviews], holdout_labels=[label_of(r) or "" for r in holdout_reviews],
        test_texts=[" ".join(r.text.split()[:MAX_WORDS]) for r in test_reviews],
        test_labels=[label_of(r) or "" for r in test_reviews], canaries=canaries, planted=planted,
    )
