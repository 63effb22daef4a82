"""Sampling values under fixed keys: the sampler writes keys and braces, the model only values."""

from __future__ import annotations

from shared.models.numbers import NumberDomain
from shared.models.structured import sample_values
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from tests.utils.training import fit_to_text

PROMPT = "<|im_start|>user\nrow<|im_end|>\n<|im_start|>assistant\n"


def test_a_model_that_learned_a_row_fills_its_values_and_the_sampler_its_keys() -> None:
    tokenizer = make_tiny_tokenizer()
    model = fit_to_text(make_tiny_llama(seed=1), tokenizer, PROMPT + '{"a":"', '7","b":"xy"}<|im_end|>', steps=150)
    rows = sample_values(model, tokenizer, [PROMPT + '{"a":"'] * 2, [["a", "b"], ["a", "b"]], temperature=0.0)
    assert rows == [{"a": "7", "b": "xy"}, {"a": "7", "b": "xy"}]


def test_a_value_that_never_closes_is_no_row() -> None:
    tokenizer = make_tiny_tokenizer()
    rows = sample_values(make_tiny_llama(seed=0), tokenizer, [PROMPT + '{"a":"'] * 3, [["a", "b", "c"]] * 3,
                         max_value_tokens=3, temperature=1.0)
    assert len(rows) == 3 and all(r is None or set(r) == {"a", "b", "c"} for r in rows)


def test_public_domains_hold_values_to_their_categories_and_numbers() -> None:
    import re

    tokenizer = make_tiny_tokenizer()
    colours = ["red", "green", "dark blue"]
    rows = sample_values(make_tiny_llama(seed=0), tokenizer, [PROMPT + '{"c":"'] * 12, [["c", "n"]] * 12,
                         max_value_tokens=8, temperature=1.0, choices={"c": colours}, numeric={"n"})
    closed = [r for r in rows if r is not None]
    # an untrained model writes random characters; under the masks every value it closes is allowed
    assert len(closed) >= 3, rows
    assert all(r["c"] in colours and re.fullmatch(r"[0-9.\-]+", r["n"]) for r in closed)


def test_a_model_that_learned_a_category_keeps_it_under_the_mask() -> None:
    tokenizer = make_tiny_tokenizer()
    model = fit_to_text(make_tiny_llama(seed=1), tokenizer, PROMPT + '{"a":"', 'green","b":"7"}<|im_end|>', steps=150)
    rows = sample_values(model, tokenizer, [PROMPT + '{"a":"'] * 2, [["a", "b"]] * 2, temperature=0.0,
                         choices={"a": ["red", "green"]}, numeric={"b"})
    assert rows == [{"a": "green", "b": "7"}] * 2


def test_row_choices_narrow_one_rows_key() -> None:
    tokenizer = make_tiny_tokenizer()
    rows = sample_values(make_tiny_llama(seed=0), tokenizer, [PROMPT + '{"y":"'] * 4, [["y"]] * 4, temperature=1.0,
                         choices={"y": ["no", "yes"]}, row_choices=[{"y": ["yes"]}, {}, {"y": ["yes"]}, {"y": ["no"]}])
    assert rows[0] == rows[2] == {"y": "yes"} and rows[3] == {"y": "no"} and rows[1]["y"] in {"no", "yes"}


def test_public_bounds_hold_a_number_inside_them() -> None:
    bounds = {"n": NumberDomain(250, 18_424, integer=True), "x": NumberDomain(-1.5, 2.0, integer=False)}
    rows = sample_values(make_tiny_llama(seed=0), make_tiny_tokenizer(), [PROMPT + '{"n":"'] * 16, [["n", "x"]] * 16,
                         temperature=1.0, numbers=bounds, max_value_tokens=50)
    assert all(r is not None for r in rows)  # an untrained model, yet every value closes within its bounds
    assert all(250 <= int(r["n"]) <= 18_424 and -1.5 <= float(r["x"]) <= 2.0 for r in rows), rows
