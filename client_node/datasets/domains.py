"""The public domains of the bundled tables, as their documentation gives them (german.doc, adult.names), not
read off the rows: every category a column may take and rounded public bounds for every number. A run on a
table declares these; nothing about the private rows decides them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableDomain:
    """Per feature column: its categories, or its public numeric bounds (the label's values are public)."""

    categories: dict[str, tuple[str, ...]]
    bounds: dict[str, tuple[float, float]]

    def as_query(self) -> tuple[dict[str, list[str]], dict[str, list[float]]]:
        """``public_categories`` and ``public_bounds`` as table intake takes them."""
        return ({k: list(v) for k, v in self.categories.items()},
                {k: [float(lo), float(hi)] for k, (lo, hi) in self.bounds.items()})


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
                "foreign": _codes("A20", 1, 2)},
    bounds={"months": (0, 80), "amount": (0, 20000), "rate": (1, 4), "residence": (1, 4), "age": (18, 80),
            "credits": (1, 4), "dependents": (1, 2)},
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
    },
    bounds={"age": (17, 90), "capital_gain": (0, 100000), "capital_loss": (0, 5000), "hours_per_week": (1, 99),
            "fnlwgt": (0, 1500000), "education_num": (1, 16)},
)

DOMAINS = {"german": GERMAN, "adult": ADULT}
