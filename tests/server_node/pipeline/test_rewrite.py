"""The rewrite stage: prompts hold only the sample's instruction; outputs are cut and counted."""

from __future__ import annotations

from server_node.inference import LocalTextModel
from server_node.pipeline.rewrite import _cut, rewrite_prompt, rewrite_samples
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.protocol import SamplingParams

SAMPLES = [{"instruction": "When is ward 7 open?", "input": "", "response": "old"}, {"text": "free text sample"}]


def test_prompts() -> None:
    tokenizer = make_tiny_tokenizer()
    completion = rewrite_prompt(tokenizer, "When is ward 7 open?", chat=False)
    assert completion.endswith("Question: When is ward 7 open?\nAnswer:")
    chat = rewrite_prompt(tokenizer, "When is ward 7 open?", chat=True)
    assert chat == "<|im_start|>user\nWhen is ward 7 open?<|im_end|>\n<|im_start|>assistant\n"


def test_cut_stops_at_the_next_question() -> None:
    assert _cut(" From 8 to 5.\nQuestion: And Sunday?\nAnswer: closed") == "From 8 to 5."


def test_rewrite_keeps_order_and_passes_text_samples_through() -> None:
    out = rewrite_samples(lm=LocalTextModel(make_tiny_llama(), make_tiny_tokenizer()), samples=SAMPLES, chat=True,
                          sampling=SamplingParams(temperature=0.0, max_new_tokens=8))
    assert len(out) == 2
    assert out[1].fields == SAMPLES[1] and not out[1].rewritten
    assert out[0].fields["instruction"] == "When is ward 7 open?"
    assert out[0].rewritten == (out[0].fields["response"] != "old")
