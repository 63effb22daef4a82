"""The bounded-number mask: a prefix is allowed exactly when some number within the bounds starts with it."""

import random

from shared.models.numbers import NumberDomain


def _numbers(domain: NumberDomain) -> list[str]:
    """Every written number of up to 3 decimals around the bounds (with and without trailing zeros), to
    check prefixes against."""
    if domain.integer:
        return [str(v) for v in range(-20_000, 20_001)]
    written = [f"{v / 1000:.3f}" for v in range(-3000, 3001)]
    return written + [w.rstrip("0").rstrip(".") for w in written]


def test_feasible_prefixes_are_exactly_prefixes_of_numbers_within_the_bounds() -> None:
    for domain in (NumberDomain(250, 18_424, integer=True), NumberDomain(-7, 12, integer=True),
                   NumberDomain(-1.5, 2.0, integer=False, max_decimals=3)):
        inside = [n for n in _numbers(domain) if domain.lower <= float(n) <= domain.upper]
        prefixes = {n[:i] for n in inside for i in range(1, len(n) + 1)}
        candidates = {n[:i] for n in _numbers(domain) for i in range(1, len(n) + 1)} | {"-0", "01", "1.", ".5"}
        for prefix in candidates:
            assert domain.feasible(prefix) == (prefix in prefixes), (domain, prefix)
        assert all(domain.closes(n) for n in inside)
        assert not any(domain.closes(n) for n in random.Random(0).sample(sorted(set(_numbers(domain)) - set(inside)), 50))


def test_malformed_numbers_never_pass() -> None:
    domain = NumberDomain(0, 100, integer=False)
    assert not any(domain.feasible(p) for p in ["--1", "1-", "1.2.3", "0.1.", "a", "1e5", "00"])
    assert not any(domain.closes(p) for p in ["", "-", "1.", "-0"])
    assert NumberDomain(0, 100, integer=True).feasible("5") and not NumberDomain(0, 100, integer=True).feasible("5.")
