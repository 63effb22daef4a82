"""Choose the offline expert by measurement: grading AUC of each candidate on a labelled set.

The labelled set (built here, deterministic, no private data): good clinic Q&A samples, and bad ones
of four kinds the DP generator is known to produce: mismatched answers (implausible), garbled text
(word salad), off-topic samples, and truncated responses. A second set checks the label condition:
short clothing reviews whose requested label is right (good) or the opposite (bad).

AUC = P(a good sample grades above a bad one). Run:  python -m bench.expert_grading
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from bench.common import machine, save, table
from client_node.datasets.demo import clinic_records
from server_node.inference import LocalTextModel
from server_node.pipeline.grade import CONDITION, GradingMethod, grade_samples
from shared.models.loading import load_causal_lm

OFF_TOPIC = [
    ("How long should I boil an egg for a soft yolk?", "Boil it for six minutes, then cool it in cold water."),
    ("How do I change a flat tyre on my car?", "Loosen the nuts, jack up the car, swap the wheel and tighten the nuts."),
    ("What is the capital of Australia?", "The capital of Australia is Canberra."),
    ("How do I water a cactus?", "Water it every two weeks in summer and once a month in winter."),
    ("Which chess opening is best for beginners?", "The Italian Game is a simple and solid choice for beginners."),
    ("How do I reset my router?", "Hold the reset button for ten seconds until the lights blink."),
    ("What time does the football match start?", "The match kicks off at 3 pm on Saturday."),
    ("How do I make bread rise faster?", "Put the dough in a warm place and use a little more yeast."),
]
POSITIVE = ["I love this dress, it fits perfectly and the fabric is soft.", "Beautiful colour and great quality, I wear it all the time.",
            "Very comfortable sweater, warm and well made. Highly recommend.", "The jeans fit like a glove and look amazing.",
            "Gorgeous top, flattering cut and true to size.", "Best purchase this year, the coat is warm and stylish.",
            "Lovely skirt, great length and it washes well.", "Perfect summer dress, light and pretty."]
NEGATIVE = ["The dress ripped after one wash and the colour faded.", "Terrible fit, far too tight and the zip broke.",
            "Cheap fabric that itches, I sent it back.", "The sweater shrank and looks nothing like the picture.",
            "Poor quality, loose threads everywhere and a hole in the seam.", "Awful jeans, the waist is huge and the legs too short.",
            "Disappointed, the top is see-through and badly stitched.", "The coat smells odd and the buttons fell off."]


def clinic_set(n_good: int = 16, seed: int = 0) -> list[tuple[dict[str, str], int, str]]:
    """(sample, 1 good / 0 bad, kind) for the quality criteria."""
    rng = random.Random(seed)
    records = clinic_records(n_good * 2, seed=seed + 11)
    good = [({"instruction": r.instruction, "response": r.response}, 1, "good") for r in records[:n_good]]
    bad: list[tuple[dict[str, str], int, str]] = []
    others = records[n_good:]
    for i, r in enumerate(others[: n_good // 4]):  # an answer to a different question
        other = next(o for o in others[i + 1 :] + others[:i] if o.instruction.split()[0] != r.instruction.split()[0])
        bad.append(({"instruction": r.instruction, "response": other.response}, 0, "mismatched"))
    for r in others[n_good // 4 : n_good // 2]:  # word salad
        words = r.response.split()
        rng.shuffle(words)
        bad.append(({"instruction": r.instruction, "response": " ".join(words)}, 0, "garbled"))
    for q, a in OFF_TOPIC[: n_good // 4]:
        bad.append(({"instruction": q, "response": a}, 0, "off-topic"))
    for r in others[n_good // 2 : n_good // 2 + n_good // 4]:  # cut off
        bad.append(({"instruction": r.instruction, "response": " ".join(r.response.split()[:3])}, 0, "truncated"))
    return good + bad


def review_set() -> list[tuple[dict[str, str], int, str]]:
    """(sample, 1 if the requested label is right, kind) for the condition criterion."""
    out = []
    for text in POSITIVE:
        out.append(({"instruction": "Write a positive review of a clothing item.", "response": text}, 1, "label right"))
        out.append(({"instruction": "Write a negative review of a clothing item.", "response": text}, 0, "label wrong"))
    for text in NEGATIVE:
        out.append(({"instruction": "Write a negative review of a clothing item.", "response": text}, 1, "label right"))
        out.append(({"instruction": "Write a positive review of a clothing item.", "response": text}, 0, "label wrong"))
    return out


def auc(scores: list[float], labels: list[int]) -> float:
    """Mann-Whitney AUC (ties count half)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y == 1]
    neg = [s for s, y in zip(scores, labels, strict=True) if y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def evaluate(loaded: Any, method: GradingMethod) -> dict[str, Any]:
    chat = loaded.resolved.chat
    clinic = clinic_set()
    start = time.perf_counter()
    grades = grade_samples(lm=LocalTextModel(loaded.model, loaded.tokenizer), samples=[s for s, _, _ in clinic],
                           domain="patient questions to a clinic", chat=chat, batch_size=8, method=method)
    seconds = time.perf_counter() - start
    labels = [y for _, y, _ in clinic]
    row: dict[str, Any] = {"expert": loaded.resolved.model_id, "method": method.value,
                           "prompting": "chat" if chat else "completion", "AUC grade": auc([g.score for g in grades], labels)}
    for criterion in grades[0].criteria:
        row[f"AUC {criterion}"] = auc([g.criteria[criterion] for g in grades], labels)
    for kind in ("mismatched", "garbled", "off-topic", "truncated"):
        subset = [(g.score, y) for g, (_, y, k) in zip(grades, clinic, strict=True) if k in (kind, "good")]
        row[f"AUC vs {kind}"] = auc([s for s, _ in subset], [y for _, y in subset])
    reviews = review_set()
    cond = grade_samples(lm=LocalTextModel(loaded.model, loaded.tokenizer), samples=[s for s, _, _ in reviews],
                         domain="clothing reviews", chat=chat, labels=["positive", "negative"])
    row["AUC condition"] = auc([g.criteria[CONDITION] for g in cond], [y for _, y, _ in reviews])
    row["s/sample"] = seconds / len(clinic)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experts", nargs="+", default=["gemma3-270m", "smollm2-135m-instruct"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()
    rows = []
    for spec in args.experts:
        loaded = load_causal_lm(spec, dtype=args.dtype)
        rows += [evaluate(loaded, method) for method in GradingMethod]
    columns = list(rows[0])
    print(table(rows, columns))
    clinic = clinic_set()
    settings = {"dtype": args.dtype, "clinic_samples": len(clinic), "good": sum(y for _, y, _ in clinic),
                "review_samples": len(review_set()),
                "calibration": "questions: contextual (content-free prior); likelihood: fixed sigmoid constants (4 PMI, 2 + "
                               "log-prob), chosen on this same small set",
                "condition": "label options by log-probability, the same in both methods"}
    print(f"saved {save('expert_grading', {'machine': machine(), 'settings': settings, 'rows': rows})}")


if __name__ == "__main__":
    main()
