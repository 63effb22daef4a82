"""The public domains of the bundled tables, as their documentation gives them (german.doc, adult.names), not
read off the rows: every category a column may take and rounded public bounds for every number. A run on a
table declares these; nothing about the private rows decides them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TableDomain:
    """Per column: its categories, or its public numeric bounds and cut points (rounded, skewed columns cut
    where their documentation's ranges suggest, not at the data's quantiles)."""

    categories: dict[str, tuple[str, ...]]
    bounds: dict[str, tuple[float, float]]
    cuts: dict[str, tuple[float, ...]]

    def as_query(self, header: Sequence[str] | None = None) -> dict[str, dict[str, list[Any]]]:
        """``public_categories``, ``public_bounds`` and ``public_cuts`` as table intake takes them (and as a
        ``--domain`` file holds them); with ``header``, only its columns."""
        keep = (lambda name: name in header) if header is not None else (lambda name: True)
        return {"public_categories": {k: list(v) for k, v in self.categories.items() if keep(k)},
                "public_bounds": {k: [float(lo), float(hi)] for k, (lo, hi) in self.bounds.items() if keep(k)},
                "public_cuts": {k: [float(c) for c in v] for k, v in self.cuts.items() if keep(k)}}


def _codes(prefix: str, first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(first, last + 1))


# UCI Statlog German credit, german.doc: qualitative attributes by their codes, numbers within rounded bounds
# (a loan of up to 80 months and 20,000 DM; the installment rate, years of residence and existing credits
# are coded 1-4; people liable 1-2; applicants are adults).
GERMAN = TableDomain(
    categories={"checking": _codes("A1", 1, 4), "history": _codes("A3", 0, 4), "purpose": _codes("A4", 0, 10),
                "savings": _codes("A6", 1, 5), "employed": _codes("A7", 1, 5), "sex": _codes("A9", 1, 5),
                "debtors": _codes("A10", 1, 3), "property": _codes("A12", 1, 4), "plans": _codes("A14", 1, 3),
                "housing": _codes("A15", 1, 3), "job": _codes("A17", 1, 4), "phone": _codes("A19", 1, 2),
                "foreign": _codes("A20", 1, 2), "credit": ("good", "bad")},
    bounds={"months": (0, 80), "amount": (0, 20000), "rate": (1, 4), "residence": (1, 4), "age": (18, 80),
            "credits": (1, 4), "dependents": (1, 2)},
    cuts={"months": (6, 12, 18, 24, 36, 48), "amount": (1000, 2000, 3000, 5000, 8000, 12000),
          "age": (25, 30, 35, 45, 55, 65), "rate": (1, 2, 3), "residence": (1, 2, 3), "credits": (1, 2, 3),
          "dependents": (1,)},
)

# UCI Adult, adult.names: each attribute's values as listed there, and "?" for the unknown values it says the
# file has; the census top-codes age at 90, capital gains at 99,999 and hours at 99.
ADULT = TableDomain(
    categories={
        "workclass": ("Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov", "State-gov",
                      "Without-pay", "Never-worked", "?"),
        "education": ("Bachelors", "Some-college", "11th", "HS-grad", "Prof-school", "Assoc-acdm", "Assoc-voc", "9th",
                      "7th-8th", "12th", "Masters", "1st-4th", "10th", "Doctorate", "5th-6th", "Preschool"),
        "marital_status": ("Married-civ-spouse", "Divorced", "Never-married", "Separated", "Widowed",
                           "Married-spouse-absent", "Married-AF-spouse"),
        "occupation": ("Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial", "Prof-specialty",
                       "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical", "Farming-fishing", "Transport-moving",
                       "Priv-house-serv", "Protective-serv", "Armed-Forces", "?"),
        "relationship": ("Wife", "Own-child", "Husband", "Not-in-family", "Other-relative", "Unmarried"),
        "race": ("White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"),
        "sex": ("Female", "Male"),
        "native_country": ("United-States", "Cambodia", "England", "Puerto-Rico", "Canada", "Germany",
                           "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece", "South", "China", "Cuba", "Iran",
                           "Honduras", "Philippines", "Italy", "Poland", "Jamaica", "Vietnam", "Mexico", "Portugal",
                           "Ireland", "France", "Dominican-Republic", "Laos", "Ecuador", "Taiwan", "Haiti", "Columbia",
                           "Hungary", "Guatemala", "Nicaragua", "Scotland", "Thailand", "Yugoslavia", "El-Salvador",
                           "Trinadad&Tobago", "Peru", "Hong", "Holand-Netherlands", "?"),
        "income": ("<=50K", ">50K"),
    },
    bounds={"age": (17, 90), "capital_gain": (0, 100000), "capital_loss": (0, 5000), "hours_per_week": (1, 99),
            "fnlwgt": (0, 1500000), "education_num": (1, 16)},
    # bins are [lower, c1], (c1, c2], ...: a first cut at the lower bound gives the many zero gains and losses a bin
    cuts={"age": (25, 30, 35, 40, 45, 50, 55, 60, 65, 70), "capital_gain": (0, 3000, 5000, 7500, 10000, 15000, 30000),
          "capital_loss": (0, 1500, 1800, 2000, 2500), "hours_per_week": (20, 30, 35, 39, 40, 45, 50, 60, 70),
          "fnlwgt": (50000, 100000, 150000, 200000, 250000, 300000, 400000, 500000),
          "education_num": tuple(range(1, 16))},
)

DOMAINS = {"german": GERMAN, "adult": ADULT}
