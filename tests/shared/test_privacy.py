"""DP certificate validation and the record-count rounding."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.privacy import Accountant, DPCertificate, Mechanism, round_record_count
from tests.utils.adapters import make_certificate


def test_certificate_json_round_trip_keeps_infinity() -> None:
    cert = DPCertificate.non_private(steps=5, sample_rate=0.5, training_records=12)
    again = DPCertificate.model_validate_json(cert.model_dump_json())
    assert again == cert and math.isinf(again.epsilon) and not again.is_private


def test_private_certificate_needs_accountant_and_noise() -> None:
    with pytest.raises(ValidationError, match="accountant"):
        make_certificate(accountant=Accountant.NONE)
    with pytest.raises(ValidationError, match="noise_multiplier"):
        make_certificate(noise_multiplier=0.0)
    with pytest.raises(ValidationError):
        make_certificate(delta=1.0)
    with pytest.raises(ValidationError):
        make_certificate(epsilon=float("nan"))


def test_inherited_certificate_names_its_parent() -> None:
    parent = make_certificate()
    child = parent.inherited("ab" * 32)
    assert child.mechanism is Mechanism.POST_PROCESSING and child.inherited_from == "ab" * 32
    assert (child.epsilon, child.delta) == (parent.epsilon, parent.delta)
    with pytest.raises(ValidationError, match="inherits"):
        make_certificate(mechanism=Mechanism.POST_PROCESSING)


def test_composed_releases_need_a_history_that_holds_them() -> None:
    composed = make_certificate(history=[(6.0, 1.0, 1), (0.9, 0.05, 120)], releases=[Mechanism.CONDITION_COUNTS])
    assert DPCertificate.model_validate_json(composed.model_dump_json()) == composed
    assert composed.inherited("ab" * 32).history == composed.history  # a knowledge adapter inherits it all
    with pytest.raises(ValidationError, match="history"):
        make_certificate(releases=[Mechanism.CONDITION_COUNTS])
    with pytest.raises(ValidationError, match="history"):
        make_certificate(history=[(0.9, 0.05, 120)], releases=[Mechanism.CONDITION_COUNTS])
    with pytest.raises(ValidationError, match="sample rate"):
        make_certificate(history=[(0.9, 1.5, 120)])


@given(st.integers(min_value=0, max_value=10**9))
def test_rounding_keeps_two_significant_digits(n: int) -> None:
    rounded = round_record_count(n)
    assert abs(rounded - n) <= max(0.05 * n, 0.5) + 1e-9
    if n >= 100:
        assert len(str(rounded).rstrip("0")) <= 2
