"""Declared condition domains: validation, the combinations generation and counts index, a record's check."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.conditions import MAX_COMBINATIONS, ConditionSpace


def test_combinations_follow_the_declaration_order() -> None:
    space = ConditionSpace(domains={"label": ["negative", "positive"], "item": ["Dresses", "Tops", "Pants"]})
    combos = list(space.combinations())
    assert space.names == ["item", "label"]  # sorted: a JSON round trip may reorder keys
    assert len(combos) == 6 and combos[0] == (("item", "Dresses"), ("label", "negative"))
    assert combos[-1] == (("item", "Pants"), ("label", "positive"))
    assert space.describe(combos[1]) == "item: Dresses; label: positive"
    assert ConditionSpace.declared(None) is None and ConditionSpace.declared({}) is None


def test_a_record_is_checked_against_the_space() -> None:
    space = ConditionSpace(domains={"label": ["negative", "positive"]})
    assert space.check({"label": " positive "}) == ((("label", "positive"),), None)
    assert "outside" in str(space.check({"label": "meh"})[1])
    assert "missing" in str(space.check({})[1])
    assert "no declared domain" in str(space.check({"label": "positive", "tone": "x"})[1])
    assert "string" in str(space.check({"label": 1})[1])


@pytest.mark.parametrize("domains", [
    {}, {"label": ["only"]}, {"label": ["a", " a"]}, {"label": ["a", ""]}, {"_x": ["a", "b"]},
    {f"c{i}": ["a", "b"] for i in range(5)}, {"a": [str(i) for i in range(MAX_COMBINATIONS)], "b": ["x", "y"]},
])
def test_bad_domains_are_refused(domains) -> None:
    with pytest.raises(ValidationError):
        ConditionSpace(domains=domains)


def test_allocation_follows_the_shares_with_a_floor_and_sums_to_n() -> None:
    space = ConditionSpace(domains={"label": ["negative", "positive", "mixed"]})
    neg, pos, mixed = (tuple([("label", v)]) for v in ("negative", "positive", "mixed"))
    assert space.allocate(9) == {neg: 3, pos: 3, mixed: 3}
    plan = space.allocate(100, {neg: 0.3, pos: 0.7, mixed: 0.0}, floor=0.3)  # 0.7 x shares + 0.3 x equal
    assert plan == {neg: 31, pos: 59, mixed: 10}
    assert space.allocate(10, {neg: 0.2, pos: 0.8}) == {neg: 2, pos: 8, mixed: 0}
    with pytest.raises(ValueError, match="outside"):
        space.allocate(10, {(("label", "neutral"),): 1.0})
    with pytest.raises(ValueError, match="sum to 0"):
        space.allocate(10, {neg: 0.0})


def test_reports_name_and_count_combinations_one_way() -> None:
    from shared.conditions import condition_key, count_by_condition

    assert condition_key({"label": "positive", "item": "top"}) == "item=top, label=positive"
    assert condition_key({}) == "(none)"
    given = [{"label": "positive"}, {"label": "negative"}, {"label": "positive"}, {}]
    assert count_by_condition(given) == {"(none)": 1, "label=negative": 1, "label=positive": 2}
    assert ConditionSpace(domains={"label": ["a", "b"], "item": ["x", "y"]}).labels == ["a", "b"]
    assert ConditionSpace(domains={"item": ["x", "y"]}).labels is None


def test_contrasts_change_the_label_alone_or_the_first_condition_without_one() -> None:
    space = ConditionSpace(domains={"label": ["negative", "neutral", "positive"], "item": ["dress", "top"]})
    assert space.contrasts((("item", "top"), ("label", "neutral"))) == [
        (("item", "top"), ("label", "negative")), (("item", "top"), ("label", "positive"))]
    unlabelled = ConditionSpace(domains={"ward": ["a", "b"], "year": ["2020", "2021"]})
    assert unlabelled.contrasts((("ward", "b"), ("year", "2020"))) == [(("ward", "a"), ("year", "2020"))]
