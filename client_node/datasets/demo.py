"""Bundled demo data: a deterministic generator of small clinic Q&A records (no real person in them)."""

from __future__ import annotations

import random

from shared.records import Record

_DRUGS = [("metformin", "type 2 diabetes"), ("lisinopril", "high blood pressure"), ("atorvastatin", "high cholesterol"),
          ("levothyroxine", "an underactive thyroid"), ("amoxicillin", "a chest infection"), ("omeprazole", "acid reflux"),
          ("sertraline", "depression"), ("salbutamol", "asthma"), ("warfarin", "atrial fibrillation"),
          ("ibuprofen", "back pain")]
_FREQ = ["once a day", "twice a day", "every eight hours", "every morning", "at night"]
_WHO = ["my mother", "my father", "my son", "my daughter", "I", "my husband", "my wife"]
_DEPTS = ["cardiology", "dermatology", "radiology", "physiotherapy", "the blood test clinic", "pediatrics"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def clinic_records(n: int, *, seed: int = 0) -> list[Record]:
    """``n`` distinct patient questions with a clinic's answers, in a few fixed styles."""
    rng = random.Random(seed)
    out: list[Record] = []
    seen: set[Record] = set()
    while len(out) < n:
        kind = rng.randrange(3)
        if kind == 0:
            drug, condition = rng.choice(_DRUGS)
            dose, freq, who = rng.choice([5, 10, 20, 25, 50, 100, 250, 500]), rng.choice(_FREQ), rng.choice(_WHO)
            record = Record(
                instruction=f"{who.capitalize()} was prescribed {dose} mg of {drug} for {condition}. How often should it be taken?",
                response=f"{drug.capitalize()} for {condition} is usually taken {freq}. Keep to {dose} mg per dose "
                "and ask your pharmacist before combining it with other medicines.",
            )
        elif kind == 1:
            dept, day = rng.choice(_DEPTS), rng.choice(_DAYS)
            start, end = rng.choice([7, 8, 9]), rng.choice([16, 17, 18, 19])
            record = Record(
                instruction=f"When is {dept} open on {day}?",
                response=f"On {day}, {dept} is open from {start}:00 to {end}:00. Please arrive ten minutes early "
                "and bring your referral letter.",
            )
        else:
            drug, condition = rng.choice(_DRUGS)
            hours = rng.choice([2, 4, 6, 12, 24])
            record = Record(
                instruction=f"I missed a dose of {drug} about {hours} hours ago. What should I do?",
                response=f"If you missed a dose of {drug}, take it when you remember unless the next dose is due soon. "
                f"Do not take two doses to make up for it. Call us if your {condition} symptoms get worse.",
            )
        if record not in seen:
            seen.add(record)
            out.append(record)
    return out
