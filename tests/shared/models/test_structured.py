"""Sampling values under fixed keys: the sampler writes keys and braces, the model only values."""

from __future__ import annotations

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
