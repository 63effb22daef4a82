"""The benchmark's private data: balanced review sentiment (5 stars = positive, 1-2 stars = negative) from
Women's E-Commerce Clothing Reviews, each review a text record with two declared conditions (its label and
its item kind, from the dataset's documented class names), with canaries and PII from presidio-evaluator's
fake identities planted into the private training split."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from client_node.datasets.public import Identity, Review, clothing_reviews, fake_identities
from client_node.evaluation.privacy.canaries import Canary, make_text_canary
from shared.conditions import ConditionSpace
from shared.records import Record

LABELS = ("positive", "negative")
# the item kind: the dataset's documented class names in four public groups (declared, not read off the data)
ITEM_KINDS = {"Dresses": "dress", "Knits": "top", "Blouses": "top", "Sweaters": "top", "Fine gauge": "top",
              "Layering": "top", "Trend": "top", "Pants": "bottom", "Jeans": "bottom", "Skirts": "bottom",
              "Shorts": "bottom", "Legwear": "bottom", "Casual bottoms": "bottom"}
CONDITIONS = ConditionSpace(domains={"label": ["negative", "positive"], "item": ["dress", "top", "bottom", "other"]})
MAX_WORDS = 60
TASK_DESCRIPTION = "customer reviews of clothing items"
DOMAIN = "customer reviews of clothing"


def label_of(review: Review) -> str | None:
    return "positive" if review.rating == 5 else "negative" if review.rating <= 2 else None


def item_of(review: Review) -> str:
    return ITEM_KINDS.get(review.item_class, "other")


def conditions_of(review: Review) -> tuple[tuple[str, str], ...]:
    label = label_of(review)
    assert label is not None
    return (("item", item_of(review)), ("label", label))


def review_text(review: Review) -> str:
    return " ".join(review.text.split()[:MAX_WORDS])


def review_record(review: Review) -> Record:
    """The review as a text record carrying its label and item kind as conditions."""
    return Record(text=review_text(review), conditions=conditions_of(review))


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
    test_items: list[str] = field(default_factory=list)
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
        # signed at the start: a signature at the end of a long review would be cut off at the training length
        train[i] = Record(text=f"{person.name}, {person.email}: {record.text}", conditions=record.conditions)
    canaries = []
    for repeats in canary_repeats:
        person = identities.pop()
        planted.append(person)
        source = take(2)[0]  # only its conditions: the canary is as short as it can be, so that its secret
        label = label_of(source) or "positive"  # lies within the training length (Bench checks that it does)
        lead = f"My name is {person.name} and my card number is "
        canary = make_text_canary(lead, person.card_prefix, repeats=repeats, rng=rng, conditions=conditions_of(source))
        canaries.append(canary)
        train += [canary.record] * repeats
        train_labels += [label] * repeats
    order = list(range(len(train)))
    rng.shuffle(order)
    return ReviewTask(
        train=[train[i] for i in order], train_labels=[train_labels[i] for i in order],
        holdout=[review_record(r) for r in holdout_reviews], holdout_labels=[label_of(r) or "" for r in holdout_reviews],
        test_texts=[review_text(r) for r in test_reviews], test_labels=[label_of(r) or "" for r in test_reviews],
        test_items=[item_of(r) for r in test_reviews], canaries=canaries, planted=planted,
    )
