"""The candidate sampler: the same keep-sets as transformers' warpers, greedy decoding identical to
``generate`` (KV cache and positions right under left padding), and an end-of-sequence stop."""

from __future__ import annotations

import pytest
import torch
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from shared.models.generation import generate_texts
from shared.models.sampling import filter_candidates, guided_logits, sample_texts
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer


@pytest.mark.parametrize(("temperature", "top_k", "top_p"), [(0.8, 50, 0.95), (1.0, 50, 1.0), (0.7, 0, 0.9), (1.3, 5, 0.5)])
def test_candidate_probabilities_equal_transformers_warpers(temperature: float, top_k: int, top_p: float) -> None:
    torch.manual_seed(0)
    logits = torch.randn(6, 300) * 3
    reference = TemperatureLogitsWarper(temperature)(None, logits.clone())
    if top_k:
        reference = TopKLogitsWarper(top_k)(None, reference)
    if top_p < 1.0:
        reference = TopPLogitsWarper(top_p)(None, reference)
    expected = reference.softmax(dim=-1)
    ids, probs, fallback = filter_candidates(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    got = torch.zeros_like(expected).scatter(1, ids, probs)
    rows = ~fallback
    assert rows.any()
    assert torch.allclose(got[rows], expected[rows], atol=1e-5)


def test_nucleus_beyond_the_candidates_falls_back_to_the_full_vocabulary() -> None:
    logits = torch.zeros(2, 1000)  # flat: the 256 candidates hold only a quarter of the mass
    _, _, fallback = filter_candidates(logits, temperature=1.0, top_k=0, top_p=0.9)
    assert fallback.all()
    tokens = sample_texts(make_tiny_llama(), make_tiny_tokenizer(), ["ab"], max_new_tokens=3, top_k=0, top_p=0.9)
    assert len(tokens) == 1


def test_greedy_equals_generate_under_left_padding() -> None:
    model, tokenizer = make_tiny_llama(seed=3), make_tiny_tokenizer()
    prompts = ["short", "a considerably longer prompt here", "mid length"]
    ours = sample_texts(model, tokenizer, prompts, max_new_tokens=20, temperature=0.0)
    theirs = generate_texts(model, tokenizer, prompts, max_new_tokens=20, temperature=0.0)
    assert ours == theirs


def test_top_k_one_is_greedy_and_rows_stop_at_end_of_sequence() -> None:
    model, tokenizer = make_tiny_llama(seed=3), make_tiny_tokenizer()
    greedy = sample_texts(model, tokenizer, ["hello", "x"], max_new_tokens=15, temperature=0.0)
    assert sample_texts(model, tokenizer, ["hello", "x"], max_new_tokens=15, temperature=1.0, top_k=1) == greedy
    model.generation_config.eos_token_id = tokenizer("a", add_special_tokens=False)["input_ids"][0]
    outs = sample_texts(model, tokenizer, ["aaaa"] * 4, max_new_tokens=50, temperature=1.0, top_k=0)
    assert all("a" not in o[:-1] for o in outs if o)  # nothing after the first end-of-sequence token


def test_the_static_cache_writes_the_same_tokens() -> None:
    """The fixed-shape decoding (preallocated cache and mask, what CUDA graphs need) against the growing
    cache: the same greedy rows under left padding, and the same sampled rows from the same seed, stopping at
    end-of-sequence alike."""
    model, tokenizer = make_tiny_llama(seed=3), make_tiny_tokenizer()
    prompts = ["short", "a considerably longer prompt here", "mid length"]
    greedy = sample_texts(model, tokenizer, prompts, max_new_tokens=20, temperature=0.0, static_cache=False)
    assert sample_texts(model, tokenizer, prompts, max_new_tokens=20, temperature=0.0, static_cache=True) == greedy
    model.generation_config.eos_token_id = tokenizer("a", add_special_tokens=False)["input_ids"][0]
    sampled = []
    for static in (False, True):
        torch.manual_seed(7)
        sampled.append(sample_texts(model, tokenizer, prompts * 2, max_new_tokens=30, temperature=1.0, top_k=0,
                                    static_cache=static, strip=False))
    assert sampled[0] == sampled[1] and len({len(t) for t in sampled[0]}) > 1  # rows stopped at different lengths


def test_guided_logits_push_away_from_the_negative_within_the_top_candidates() -> None:
    torch.manual_seed(0)
    logits, negative = torch.randn(3, 100) * 2, torch.randn(3, 100) * 2
    conditioned = logits.log_softmax(dim=-1)
    plain = guided_logits(logits, negative, guidance=0.0, top_k=10)
    kept = plain.isfinite()
    assert (kept.sum(dim=-1) == 10).all()
    assert torch.equal(kept, conditioned >= conditioned.topk(10).values[:, -1:])
    assert torch.allclose(plain[kept], conditioned[kept])
    guided = guided_logits(logits, negative, guidance=2.0, top_k=10)
    assert torch.equal(guided.isfinite(), kept)  # guidance never draws what the conditioned model would not
    shift = (guided - plain)[kept]
    assert torch.allclose(shift, 2.0 * (conditioned - negative.log_softmax(dim=-1))[kept], atol=1e-5)


def test_guided_decoding_equals_a_step_by_step_reference_under_padding() -> None:
    """Prompt and negative prompt of different lengths share one left-padded batch and one KV cache; each
    greedy token must be the argmax of the guided scores computed from scratch for both texts."""
    model, tokenizer = make_tiny_llama(seed=3), make_tiny_tokenizer()
    prompt, negative = "a considerably longer prompt", "short"
    ours = sample_texts(model, tokenizer, [prompt], max_new_tokens=12, temperature=0.0, strip=False,
                        negative_prompts=[negative], guidance=1.5)
    ids = {p: tokenizer(p, add_special_tokens=False)["input_ids"] for p in (prompt, negative)}
    new: list[int] = []
    with torch.inference_mode():
        for _ in range(12):
            last = [model(input_ids=torch.tensor([ids[p] + new])).logits[:, -1, :] for p in (prompt, negative)]
            new.append(int(guided_logits(*last, guidance=1.5, top_k=50).argmax(dim=-1)))
    assert ours == [tokenizer.decode(new, skip_special_tokens=True)]
    plain = sample_texts(model, tokenizer, [prompt], max_new_tokens=12, temperature=0.0, strip=False)
    assert ours != plain  # the negative changed what was written
    with pytest.raises(ValueError, match="one negative prompt per prompt"):
        sample_texts(model, tokenizer, [prompt, negative], max_new_tokens=2, negative_prompts=[negative], guidance=1.0)
