"""Table row generation: the prompt holds only the model's own rows, validity rules, the attempt budget."""

from __future__ import annotations

import random
from collections import Counter

from server_node.pipeline.table_generate import (
    ExamplePool,
    RowRules,
    generate_table_rows,
    row_start,
    table_prompt,
)
from shared.models.numbers import NumberDomain
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import GenerationTemplate
from shared.protocol import SamplingParams, TableJobSettings
from shared.tables.schema import ColumnSpec, TableSchema
from tests.utils.training import fit_to_text

SCHEMA = TableSchema(columns=[ColumnSpec(name="a", kind="integer"), ColumnSpec(name="c", kind="categorical"),
                              ColumnSpec(name="y", kind="categorical", categories=["n", "p"])], label="y")
TEMPLATE = GenerationTemplate.for_table("tiny rows", SCHEMA)


def test_the_prompt_shows_the_given_rows_and_starts_the_row() -> None:
    tokenizer = make_tiny_tokenizer()
    shown = [{"a": "1", "c": "x", "y": "n"}, {"a": "2", "c": "z", "y": "p"}]
    prompt, order = table_prompt(tokenizer, TEMPLATE, shown, random.Random(0))
    assert TEMPLATE.user_prompt in prompt and "y (one of n, p)" in prompt and "Example rows:" in prompt
    assert '"c":"x"' in prompt and '"c":"z"' in prompt and sorted(order) == sorted(SCHEMA.names)
    assert prompt.endswith("<|im_start|>assistant\n" + row_start(order[0])) and row_start("a") == '{"a":"'
    bare, _ = table_prompt(tokenizer, TEMPLATE, [], random.Random(0))
    assert "Example rows:" not in bare


def test_rules_from_the_bootstrap() -> None:
    seen = {"c": Counter({"x": 3, "z": 1})}
    rules = RowRules.learned(SCHEMA, [{"a": "10", "c": "x", "y": "n"}, {"a": "20", "c": "x", "y": "p"}], margin=0.5,
                             seen=seen)
    assert rules.ranges["a"] == (5.0, 25.0)
    assert rules.problem({"a": "12", "c": "x", "y": "n"}) is None
    assert "fewer than 2" in rules.problem({"a": "12", "c": "z", "y": "n"})
    assert "range" in rules.problem({"a": "30", "c": "x", "y": "n"})
    bounded = SCHEMA.model_copy(update={"columns": [c.model_copy(update={"lower": 0, "upper": 100}) if c.name == "a" else c
                                                    for c in SCHEMA.columns]})
    rows = [{"a": "10", "c": "x", "y": "n"}, {"a": "20", "c": "x", "y": "p"}]
    assert RowRules.learned(bounded, rows, margin=0.5, seen=seen).ranges == {}  # public bounds are not narrowed


def test_example_sets_are_an_anchor_and_its_nearest_rows() -> None:
    pool = [{"a": str(i), "c": "x", "y": "n"} for i in range(0, 100, 10)]
    sets = ExamplePool.of(pool, SCHEMA).sets([None] * 5, 3, random.Random(0))
    assert len(sets) == 5
    for examples in sets:
        values = sorted(int(r["a"]) for r in examples)
        assert len(values) == 3 and values[-1] - values[0] == 20  # three neighbours in a row
    assert ExamplePool.of(pool, SCHEMA).sets([None, None], 0, random.Random(0)) == [[], []]


def test_example_sets_carry_the_drawn_label() -> None:
    # alternating labels: unrestricted, the nearest rows would mix them
    pool = [{"a": str(i), "c": "x", "y": "np"[i % 2]} for i in range(20)]
    sets = ExamplePool.of(pool, SCHEMA).sets(["p", "n", "p", "n"] * 5, 3, random.Random(1))
    for label, examples in zip(["p", "n", "p", "n"] * 5, sets, strict=True):
        values = sorted(int(r["a"]) for r in examples)
        assert {r["y"] for r in examples} == {label} and values[-1] - values[0] == 4  # nearest of that label
    only_n = [r for r in pool if r["y"] == "n"]
    assert all(len(s) == 3 for s in ExamplePool.of(only_n, SCHEMA).sets(["p", "p"], 3, random.Random(0)))  # no p rows yet


def test_a_random_model_spends_its_budget_and_every_attempt_is_counted() -> None:
    model, tokenizer = make_tiny_llama(), make_tiny_tokenizer()
    progress: list[tuple[int, int]] = []
    result = generate_table_rows(model=model, tokenizer=tokenizer, template=TEMPLATE, n_rows=4,
                                 sampling=SamplingParams(temperature=1.0),
                                 settings=TableJobSettings(max_attempts_factor=3.0, max_value_tokens=4), batch_size=6,
                                 on_progress=lambda k, n: progress.append((k, n)))
    assert result.attempts == 12 and len(progress) == 2
    assert result.malformed + result.invalid + result.duplicates + len(result.rows) == 12
    assert result.counts()["attempts"] == 12 and sum(result.reasons.values()) == result.invalid


def test_a_model_that_writes_one_row_yields_it_once() -> None:
    """A one-column table and a tiny model trained to write ``7`` after the row's start: one valid row,
    every later attempt a duplicate."""
    schema = TableSchema(columns=[ColumnSpec(name="a", kind="integer")])
    template = GenerationTemplate.for_table("numbers", schema)
    tokenizer = make_tiny_tokenizer()
    model = make_tiny_llama(seed=1)
    prompt, _ = table_prompt(tokenizer, template, [], random.Random(0))
    model = fit_to_text(model, tokenizer, prompt, '7"}<|im_end|>', steps=120)
    result = generate_table_rows(model=model, tokenizer=tokenizer, template=template, n_rows=3,
                                 sampling=SamplingParams(temperature=0.0),
                                 settings=TableJobSettings(neighbours=0, max_attempts_factor=3.0), batch_size=3)
    assert result.rows == [{"a": "7"}] and result.duplicates == 8 and result.malformed == 0 and result.bootstrap == 1


def test_small_integer_ranges_become_choices_and_the_label_follows_its_shares() -> None:
    from server_node.pipeline.table_generate import public_domains

    schema = TableSchema(columns=[ColumnSpec(name="a", kind="integer", lower=1, upper=4),
                                  ColumnSpec(name="b", kind="integer", lower=0, upper=10_000),
                                  ColumnSpec(name="y", kind="categorical", categories=["n", "p"])], label="y")
    choices, numeric, numbers = public_domains(schema)
    assert choices == {"a": ["1", "2", "3", "4"], "y": ["n", "p"]} and numeric == {"a", "b"}
    assert numbers == {"b": NumberDomain(0, 10_000, integer=True)}
    template = GenerationTemplate.for_table("tiny rows", schema)
    result = generate_table_rows(model=make_tiny_llama(), tokenizer=make_tiny_tokenizer(), template=template, n_rows=6,
                                 sampling=SamplingParams(temperature=1.0), batch_size=6, seed=0,
                                 settings=TableJobSettings(neighbours=0, bootstrap=1, max_attempts_factor=6,
                                                           max_value_tokens=6, label_shares={"p": 1.0, "n": 0.0}))
    assert result.rows and all(r["y"] == "p" and r["a"] in {"1", "2", "3", "4"} for r in result.rows)
    assert all(0 <= int(r["b"]) <= 10_000 for r in result.rows)


def test_label_shares_must_name_the_labels() -> None:
    import pytest

    with pytest.raises(ValueError, match="label_shares"):
        generate_table_rows(model=make_tiny_llama(), tokenizer=make_tiny_tokenizer(), template=TEMPLATE, n_rows=1,
                            sampling=SamplingParams(), settings=TableJobSettings(label_shares={"maybe": 1.0}))
    with pytest.raises(ValueError):
        TableJobSettings(label_shares={"n": -1.0})


def test_the_clients_example_rows_replace_the_bootstrap_and_set_the_ranges() -> None:
    """The one-row model (it writes ``7``) shown the client's example rows: no bootstrap, and the examples'
    range (widened by the margin) decides whether its row is valid."""
    schema = TableSchema(columns=[ColumnSpec(name="a", kind="integer")])
    template = GenerationTemplate.for_table("numbers", schema)
    tokenizer = make_tiny_tokenizer()
    prompt, _ = table_prompt(tokenizer, template, [], random.Random(0))
    model = fit_to_text(make_tiny_llama(seed=1), tokenizer, prompt, '7"}<|im_end|>', steps=120)

    def run(examples: list[dict[str, str]]):
        return generate_table_rows(model=model, tokenizer=tokenizer, template=template, n_rows=2,
                                   sampling=SamplingParams(temperature=0.0), batch_size=2,
                                   settings=TableJobSettings(neighbours=1, max_attempts_factor=2.0, example_rows=examples))

    inside = run([{"a": "6"}, {"a": "8"}])  # range [5.5, 8.5]
    assert inside.bootstrap == 0 and inside.rows == [{"a": "7"}] and inside.duplicates == 3
    outside = run([{"a": "3"}, {"a": "5"}])  # range [2.5, 5.5]
    assert outside.rows == [] and outside.invalid == 4 and outside.reasons == {"a": 4}


def test_an_example_row_outside_the_schema_fails_naming_it() -> None:
    import pytest

    from shared.errors import ExampleRowsError

    with pytest.raises(ExampleRowsError, match="example row 1"):
        generate_table_rows(model=make_tiny_llama(), tokenizer=make_tiny_tokenizer(), template=TEMPLATE, n_rows=1,
                            sampling=SamplingParams(), settings=TableJobSettings(
                                example_rows=[{"a": "1", "c": "x", "y": "p"}, {"a": "one", "c": "x", "y": "p"}]))
