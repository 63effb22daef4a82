"""The generation stage: data-free prompts, parsing, deduplication, and its attempt budget."""

from __future__ import annotations

from server_node.inference import LocalTextModel
from server_node.pipeline.generate import generate_samples, sampling_prompt
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import GenerationTemplate
from shared.protocol import SamplingParams
from tests.utils.training import fit_to_text

TEMPLATE = GenerationTemplate.for_task("clinic questions")


def test_prompt_is_only_the_template() -> None:
    tokenizer = make_tiny_tokenizer()
    prompt = sampling_prompt(tokenizer, TEMPLATE)
    assert prompt == f"<|im_start|>user\n{TEMPLATE.user_prompt}<|im_end|>\n<|im_start|>assistant\n"


def test_random_model_spends_its_budget_and_counts_every_attempt() -> None:
    # Prepare: an untrained tiny model writes gibberish, so every attempt is malformed.
    model, tokenizer = make_tiny_llama(), make_tiny_tokenizer()
    progress: list[tuple[int, int]] = []
    # Execute
    result = generate_samples(lm=LocalTextModel(model, tokenizer), template=TEMPLATE, n_samples=4,
                              sampling=SamplingParams(temperature=1.0, max_new_tokens=12), batch_size=5,
                              max_attempts=12, on_progress=lambda k, n: progress.append((k, n)))
    # Assert
    assert result.attempts == 12 and len(progress) == 3
    assert result.malformed + result.duplicates + len(result.samples) == 12
    assert result.malformed >= 10


def _memorizing_model(record_text: str):
    """The tiny model fully fine-tuned until it writes ``record_text`` after the template prompt."""
    tokenizer = make_tiny_tokenizer()
    model = make_tiny_llama(seed=1)
    prompt = sampling_prompt(tokenizer, TEMPLATE)
    model = fit_to_text(model, tokenizer, prompt, record_text + "<|im_end|>", steps=150)
    return model, tokenizer


def test_well_formed_samples_are_parsed_and_duplicates_dropped() -> None:
    # Prepare: a model that always writes the same record (greedy decoding).
    record = "### Instruction:\nWhen is ward 7 open?\n### Response:\nFrom 8 to 5."
    model, tokenizer = _memorizing_model(record)
    # Execute
    result = generate_samples(lm=LocalTextModel(model, tokenizer), template=TEMPLATE, n_samples=3,
                              sampling=SamplingParams(temperature=0.0, max_new_tokens=100), batch_size=4, max_attempts=8)
    # Assert: one distinct sample, the rest counted as duplicates, nothing malformed.
    assert [s.fields for s in result.samples] == [{"instruction": "When is ward 7 open?", "input": "", "response": "From 8 to 5."}]
    assert result.duplicates == 7 and result.malformed == 0 and result.attempts == 8


def test_each_sample_is_asked_for_its_condition_in_the_planned_numbers() -> None:
    """A conditioned template: every prompt states the combination it asks for, each kept sample records
    it, and the kept samples per combination are exactly the plan (the random tiny model writes distinct
    gibberish, which a text template accepts)."""
    import pytest

    from shared.conditions import ConditionSpace
    from shared.prompts import RecordFormat

    space = ConditionSpace(domains={"label": ["negative", "positive"]})
    template = GenerationTemplate.for_task("clothing reviews", record_format=RecordFormat.TEXT, conditions=space)
    model, tokenizer = make_tiny_llama(), make_tiny_tokenizer()
    lm = LocalTextModel(model, tokenizer)
    asked: list[str] = []
    sample = lm.sample
    lm.sample = lambda prompts, **kw: asked.extend(prompts) or sample(prompts, **kw)  # type: ignore[method-assign]
    wanted = space.allocate(5, {(("label", "negative"),): 0.6, (("label", "positive"),): 0.4})
    result = generate_samples(lm=lm, template=template, n_samples=5, wanted=wanted, batch_size=3,
                              sampling=SamplingParams(temperature=1.0, max_new_tokens=8))
    kept = [dict(s.conditions)["label"] for s in result.samples]
    assert sorted(kept) == ["negative"] * 3 + ["positive"] * 2
    assert all(p.count("Conditions: label: ") == 1 for p in asked)
    assert {p.split("Conditions: label: ")[1].split("<")[0] for p in asked} == {"negative", "positive"}
    with pytest.raises(ValueError, match="sum to"):
        generate_samples(lm=lm, template=template, n_samples=6, wanted=wanted, sampling=SamplingParams())


def test_guided_samples_run_each_prompt_beside_one_with_another_label() -> None:
    """With guidance, every prompt goes to the model with a negative prompt: the same request with the other
    label (the item kept); without, none. An unconditioned template cannot be guided."""
    import pytest

    from shared.conditions import ConditionSpace
    from shared.prompts import RecordFormat

    space = ConditionSpace(domains={"label": ["negative", "positive"], "item": ["dress", "top"]})
    template = GenerationTemplate.for_task("clothing reviews", record_format=RecordFormat.TEXT, conditions=space)
    lm = LocalTextModel(make_tiny_llama(), make_tiny_tokenizer())
    calls: list[tuple[list[str], list[str] | None, float]] = []
    sample = lm.sample

    def spy(prompts, *, negative_prompts=None, guidance=0.0, **kw):  # type: ignore[no-untyped-def]
        calls.append((list(prompts), negative_prompts and list(negative_prompts), guidance))
        return sample(prompts, negative_prompts=negative_prompts, guidance=guidance, **kw)

    lm.sample = spy  # type: ignore[method-assign]
    guided = SamplingParams(temperature=1.0, max_new_tokens=8, guidance=1.5)
    result = generate_samples(lm=lm, template=template, n_samples=4, wanted=space.allocate(4), batch_size=4,
                              sampling=guided)
    assert len(result.samples) == 4
    for prompts, negatives, guidance in calls:
        assert guidance == 1.5 and negatives is not None and len(negatives) == len(prompts)
        for prompt, negative in zip(prompts, negatives, strict=True):
            assert prompt != negative
            assert prompt.replace("positive", "X").replace("negative", "X") == \
                negative.replace("positive", "X").replace("negative", "X")
    calls.clear()
    generate_samples(lm=lm, template=template, n_samples=2, wanted=space.allocate(2), sampling=SamplingParams())
    assert all(negatives is None and guidance == 0.0 for _, negatives, guidance in calls)
    with pytest.raises(ValueError, match="declares conditions"):
        generate_samples(lm=lm, template=GenerationTemplate.for_task("reviews"), n_samples=2, sampling=guided)
