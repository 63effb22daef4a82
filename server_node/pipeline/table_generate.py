"""Generate table rows from base + DP adapter, never shown a real row (HARMONIC's generation).

When the client sends example rows (its DP reference pool's, synthesized from its DP release:
post-processing), each prompt shows k of them, a random anchor and its nearest neighbours carrying the
label drawn for the row, as training showed the k reference rows nearest each private row; they also fix
what a valid row is, and there is no bootstrap. Otherwise a bootstrap first writes rows from the bare
prompt (training showed the model that prompt for a share of its examples), and prompts then show rows the
model wrote itself, which invites a weak adapter to repeat them: with them (and temperature 0.7), German
credit at eps 4 wrote 2 distinct rows in 160 attempts, 95 of them repeats. The bootstrap fixes what a
valid row is beyond its types: the range of a numeric column without public bounds (the bootstrap's range
widened by a margin) and, from then on, for a column without public categories, categories the DP model
itself wrote at least twice in all its output so far (a value it wrote once is taken for a slip). Each
prompt then shows k rows generated earlier, drawn like the example rows. Rows whose values never close,
break the schema or copy a shown row are counted and written again, up to a limit. Columns whose
categories are public (declared by the owner, and the label) are sampled within them and numbers from
number tokens (``shared.models.structured``): the model still chooses, among what is allowed. All of it is
post-processing of the adapter and the DP release, so the rows carry the adapter's guarantee.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ExampleRowsError
from shared.models.numbers import NumberDomain
from shared.models.structured import sample_values
from shared.prompts import GenerationTemplate
from shared.protocol import SamplingParams, TableJobSettings
from shared.tables.neighbours import RowEncoder, nearest
from shared.tables.rows import Row, row_json, row_problems, shuffled
from shared.tables.schema import ColumnKind, TableSchema


@dataclass
class TableGenerationResult:
    rows: list[Row] = field(default_factory=list)
    attempts: int = 0
    malformed: int = 0  # a value never closed (the model ended, or ran past max_value_tokens)
    invalid: int = 0  # parsed, but wrong columns, kinds, categories or ranges
    duplicates: int = 0  # the same as a kept row or a row shown in the prompt
    bootstrap: int = 0  # kept rows written from the bare prompt
    reasons: Counter[str] = field(default_factory=Counter)  # invalid rows by first problem, column named

    def counts(self) -> dict[str, int]:
        return {"generated": len(self.rows), "attempts": self.attempts, "malformed": self.malformed,
                "invalid": self.invalid, "duplicates": self.duplicates}


@dataclass
class RowRules:
    """What a generated row must satisfy besides the schema: ranges of numeric columns without public
    bounds from the bootstrap rows (public bounds are the schema's to check, and a bootstrap of a few rows
    would narrow them to nothing), and categories of columns without public ones that the model has
    written at least ``min_seen`` times (counted over every parsed row)."""

    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    seen: dict[str, Counter[str]] = field(default_factory=dict)
    min_seen: int = 2

    @classmethod
    def learned(cls, schema: TableSchema, rows: Sequence[Row], *, margin: float, seen: dict[str, Counter[str]]) -> RowRules:
        rules = cls(seen=seen)
        for spec in schema.columns:
            if spec.kind.numeric and (spec.lower is None or spec.upper is None) and rows:
                numbers = [float(r[spec.name]) for r in rows]
                low, high = min(numbers), max(numbers)
                width = (high - low) or max(abs(high), 1.0)
                rules.ranges[spec.name] = (low - margin * width, high + margin * width)
        return rules

    def problem(self, row: Row) -> str | None:
        for name, counts in self.seen.items():
            if counts[row[name]] < self.min_seen:
                return f"{name}: category the model wrote fewer than {self.min_seen} times"
        for name, (low, high) in self.ranges.items():
            if not low <= float(row[name]) <= high:
                return f"{name}: outside the bootstrap range"
        return None


def table_prompt(tokenizer: Any, template: GenerationTemplate, examples: Sequence[Row],
                 rng: random.Random, *, first: str | None = None) -> tuple[str, list[str]]:
    """The chat prompt for one row, ending where the row's first value starts, and the key order.

    The prompt shows ``examples`` with their keys in one shuffled order; the assistant turn starts with
    the first key of that order (``{"age":"``), and the sampler writes the later keys itself
    (``shared.models.structured``): the model writes values only, so a weak DP adapter cannot invent or
    drop a column (the keys are the public schema's). ``first`` puts that key first (the label, when the
    job draws it), the rest shuffled."""
    assert template.table is not None
    order = shuffled(template.table.names, rng)
    if first is not None:
        order = [first] + [k for k in order if k != first]
    shown = "\n".join(row_json(r, order) for r in shuffled(list(examples), rng))
    prompt = str(tokenizer.apply_chat_template(template.table_messages(shown), add_generation_prompt=True, tokenize=False))
    return prompt + row_start(order[0]), order


def row_start(first_key: str) -> str:
    """How a row's JSON begins, up to its first value."""
    return row_json({first_key: ""}, [first_key])[:-2]


def generate_table_rows(
    *, model: Any, tokenizer: Any, template: GenerationTemplate, n_rows: int, sampling: SamplingParams,
    settings: TableJobSettings, batch_size: int = 16, seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> TableGenerationResult:
    """Generate until ``n_rows`` valid, distinct rows exist or ``max_attempts_factor * n_rows`` tries are spent."""
    import torch

    schema = template.table
    if schema is None:
        raise ValueError("not a table template")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    pool = example_pool(schema, settings.example_rows)
    # a small job does not wait on a long bootstrap; with the client's example rows there is none
    bootstrap = 0 if pool else min(settings.bootstrap, max(1, n_rows // 4))
    budget = max(int(settings.max_attempts_factor * n_rows), bootstrap)
    result = TableGenerationResult()
    seen_categories: dict[str, Counter[str]] = {c.name: Counter() for c in schema.columns
                                                if not c.kind.numeric and c.categories is None}
    rules: RowRules | None = None
    if pool:  # the DP release's rows say what a valid row is, as the bootstrap would
        for name, counts in seen_categories.items():
            counts.update({value: RowRules.min_seen for value in {row[name] for row in pool}})
        rules = RowRules.learned(schema, pool, margin=settings.range_margin, seen=seen_categories)
    fixed = ExamplePool.of(pool, schema) if pool else None
    seen: set[str] = set()
    public_choices, numeric, numbers = public_domains(schema)
    shares = _label_shares(schema, settings.label_shares)
    while len(result.rows) < n_rows and result.attempts < budget:
        size = min(batch_size, budget - result.attempts)
        bootstrapping = rules is None
        labels = rng.choices(list(shares), weights=list(shares.values()), k=size) if shares else [None] * size
        if bootstrapping or not settings.neighbours:
            shown: list[list[Row]] = [[] for _ in range(size)]
        else:
            # the client's fixed rows are encoded once; the model's own rows again as they grow
            examples = fixed or ExamplePool.of(result.rows, schema)
            shown = examples.sets(labels, settings.neighbours, rng)
        prompts = [table_prompt(tokenizer, template, examples, rng, first=schema.label if label else None)
                   for examples, label in zip(shown, labels, strict=True)]
        written = sample_values(model, tokenizer, [p for p, _ in prompts], [order for _, order in prompts],
                                max_value_tokens=settings.max_value_tokens, temperature=sampling.temperature,
                                top_k=sampling.top_k, top_p=sampling.top_p, choices=public_choices, numeric=numeric,
                                numbers=numbers,
                                row_choices=[{schema.label: [label]} if label and schema.label else {} for label in labels])
        result.attempts += size
        for parsed, examples in zip(written, shown, strict=True):
            row = _checked(parsed, schema, rules, result, seen_categories)
            if row is None:
                continue
            key = row_json(row, schema.names)
            if key in seen or any(row == e for e in examples):
                result.duplicates += 1
                continue
            seen.add(key)
            if len(result.rows) < n_rows:
                result.rows.append(row)
                result.bootstrap += int(bootstrapping)
        if bootstrapping and result.bootstrap >= bootstrap:
            rules = RowRules.learned(schema, result.rows, margin=settings.range_margin, seen=seen_categories)
        if on_progress is not None:
            on_progress(len(result.rows), n_rows)
    return result


def example_pool(schema: TableSchema, rows: Sequence[Row] | None) -> list[Row]:
    """The client's example rows in canonical form (none: an empty pool).

    Raises:
        ExampleRowsError: a row that is not one of the schema's (naming it).
    """
    pool = []
    for i, row in enumerate(rows or ()):
        canonical, problems = row_problems(row, schema)
        if canonical is None:
            raise ExampleRowsError(f"example row {i} is not a row of the adapter's table: {'; '.join(problems)}",
                                   detail={"row": i, "problems": problems})
        pool.append(canonical)
    return pool


SMALL_INTEGER_SPAN = 128


def public_domains(schema: TableSchema) -> tuple[dict[str, list[str]], set[str], dict[str, NumberDomain]]:
    """What sampling holds values to: the public categories (and the label's values), every whole number of
    an integer column whose public bounds span at most ``SMALL_INTEGER_SPAN`` values, which columns are
    numbers, and the public bounds of the other bounded numbers (written digit by digit within them)."""
    choices = {c.name: list(c.categories) for c in schema.columns if c.categories}
    numbers = {}
    for c in schema.columns:
        if c.kind.numeric and c.lower is not None and c.upper is not None:
            if c.kind is ColumnKind.INTEGER and c.upper - c.lower < SMALL_INTEGER_SPAN:
                choices[c.name] = [str(v) for v in range(math.ceil(c.lower), math.floor(c.upper) + 1)]
            else:
                numbers[c.name] = NumberDomain(c.lower, c.upper, integer=c.kind is ColumnKind.INTEGER)
    return choices, {c.name for c in schema.columns if c.kind.numeric}, numbers


def _label_shares(schema: TableSchema, shares: dict[str, float] | None) -> dict[str, float] | None:
    if not shares:
        return None
    unknown = sorted(set(shares) - set(schema.labels))
    if unknown or schema.label is None:
        raise ValueError(f"label_shares name values that are not the label's: {unknown or list(shares)}")
    return {k: v for k, v in shares.items() if v > 0}


def _checked(parsed: Row | None, schema: TableSchema, rules: RowRules | None, result: TableGenerationResult,
             seen_categories: dict[str, Counter[str]]) -> Row | None:
    if parsed is None:
        result.malformed += 1
        return None
    for name, counts in seen_categories.items():
        if parsed.get(name, "").strip():
            counts[parsed[name].strip()] += 1
    row, problems = row_problems(parsed, schema)
    problem = problems[0] if problems else (rules.problem(row) if rules and row else None)
    if row is None or problem is not None:
        result.invalid += 1
        result.reasons[(problem or "invalid").split(":")[0]] += 1
        return None
    return row


@dataclass
class ExamplePool:
    """Rows the prompts draw example sets from, encoded for neighbour search once, and split by label."""

    rows: list[Row]
    vectors: Any
    strata: dict[str | None, list[int]]

    @classmethod
    def of(cls, rows: list[Row], schema: TableSchema) -> ExamplePool:
        encoder = RowEncoder(schema, include_label=True).fit(rows)
        strata: dict[str | None, list[int]] = {None: list(range(len(rows)))}
        if schema.label is not None:
            for i, row in enumerate(rows):
                strata.setdefault(row[schema.label], []).append(i)
        return cls(rows, encoder.transform(rows), strata)

    def sets(self, labels: Sequence[str | None], k: int, rng: random.Random) -> list[list[Row]]:
        """One example set per drawn label: a random anchor and its ``k - 1`` nearest rows, all of that label
        when the pool has one (training showed each target neighbours of its own label, so rows of the other
        label would pull the features away from the drawn one); any row otherwise."""
        sets: list[list[Row]] = [[] for _ in labels]
        if k == 0:
            return sets
        for label in dict.fromkeys(labels):
            members = self.strata.get(label) or self.strata[None]
            wanted = [i for i, drawn in enumerate(labels) if drawn == label]
            anchors = [members[rng.randrange(len(members))] for _ in wanted]
            for i, found in zip(wanted, nearest(self.vectors[members], self.vectors[anchors], k), strict=True):
                sets[i] = [self.rows[members[j]] for j in found]
        return sets

