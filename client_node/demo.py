"""The demo run: for now it loads the default models offline and has each answer one prompt.

Later issues replace this with the whole pipeline (DP training, server refinement, evaluation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shared.config import ModelSettings
from shared.constants import DEFAULT_BASE_MODEL, DEFAULT_EXPERT_MODEL
from shared.models.generation import generate_chat, generate_completion
from shared.models.loading import load_causal_lm

DEMO_QUESTION = "What are common symptoms of iron deficiency?"


@dataclass(frozen=True)
class DemoAnswer:
    model: str
    prompt: str
    answer: str
    load_seconds: float
    generate_seconds: float


def run_demo(*, question: str = DEMO_QUESTION, settings: ModelSettings | None = None,
             max_new_tokens: int = 48) -> list[DemoAnswer]:
    """Ask the base model (chat) and the expert (completion prompt) the same question."""
    answers = []
    for name, chat in ((DEFAULT_BASE_MODEL, True), (DEFAULT_EXPERT_MODEL, False)):
        start = time.perf_counter()
        loaded = load_causal_lm(name, dtype="bfloat16", settings=settings, prepare=True)
        loaded_at = time.perf_counter()
        if chat:
            prompt = question
            answer = generate_chat(loaded, [[{"role": "user", "content": question}]], max_new_tokens=max_new_tokens)[0]
        else:
            prompt = f"Question: {question}\nAnswer:"
            answer = generate_completion(loaded, [prompt], max_new_tokens=max_new_tokens)[0]
            answer = answer.split("\nQuestion:")[0].strip()
        answers.append(DemoAnswer(name, prompt, answer, loaded_at - start, time.perf_counter() - loaded_at))
        del loaded
    return answers
