"""Grade: the expert scores each sample by log-probabilities of fixed answer options, never free text.

For each criterion the score is the probability of the good answer among the options for the next
token after the question ("Yes"/"No"; or the labels, for the condition check). A base (non-chat) expert
gets a completion prompt ("...\\nQuestion: ...\\nAnswer:"), a chat expert the same question as a user
turn. Small models lean to one answer whatever the sample, so each criterion is calibrated by the
answer prior on a content-free sample (contextual calibration). The sample's grade is the mean over
criteria; the reason names each criterion's score and the weakest one.

The default ``likelihood`` grading asks no questions for relevance and fluency: relevance compares the
text's likelihood after a domain cue with its likelihood after a neutral one; fluency compares the text's
words in order with the same words shuffled, so a fluent text scores high whatever its topic or style
(an absolute likelihood threshold scored human reviews 0.16 and kept bland samples; on 100 real reviews
the order beat the shuffle by 1.8 to 3.9 nats per token, repeated or random words by 0.0 to 0.3).

The condition check: when the task names labels, a sample's requested label is its given ``label``
condition (else the one its instruction names), and the expert is asked which label the text shows. That
answer is calibrated by the graded batch, not by a content-free prompt: the content-free prior can lean the
other way from the model's bias on real text (Gemma 3 270M on 200 labelled real reviews: content-free prior
0.58 positive, mean answer 0.31 positive, so content-free calibration called every review negative; the
same answers calibrated by the batch's mean were right on 78% of each label, ranking AUC 0.87). The batch's
mean answer, each requested label weighing the same, estimates the model's bias; small batches shrink that
estimate toward the content-free one (``calibration_weight``).
"""

from __future__ import annotations

import math
import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server_node.pipeline.choices import GradingMethod, LabelCalibration

if TYPE_CHECKING:
    from server_node.inference.text_model import TextModel


CRITERIA: dict[str, str] = {
    "relevance": "Is this example about {domain}?",
    "fluency": "Is this example written in clear, fluent, well-formed language?",
    "plausibility": "Is the response a correct and sensible answer to the instruction?",
}
TABLE_CRITERIA: dict[str, str] = {
    "plausibility": "Is this a realistic row of a table of {domain}, with values that fit together?",
}
CONDITION = "condition"
YES_NO = ("Yes", "No")

CONTENT_FREE = "Instruction: N/A\nResponse: N/A"


@dataclass(frozen=True)
class Grade:
    score: float
    criteria: dict[str, float]
    reason: str
    label: str | None = None


def sample_text(fields: dict[str, str]) -> str:
    """How a sample is shown to the expert."""
    if fields.get("text"):
        return f"Text: {fields['text']}"
    parts = [f"Instruction: {fields.get('instruction', '')}"]
    if fields.get("input"):
        parts.append(f"Input: {fields['input']}")
    parts.append(f"Response: {fields.get('response', '')}")
    return "\n".join(parts)


def requested_label(fields: dict[str, Any], labels: Sequence[str]) -> str | None:
    """The label the sample was written for: its given ``label`` condition, else the one label its
    instruction names as a word (None when it names none or several)."""
    given = (fields.get("conditions") or {}).get("label")
    if given is not None:
        return str(given) if given in labels else None
    where = fields.get("instruction") or fields.get("text", "")
    named = [label for label in labels if re.search(rf"\b{re.escape(label.strip())}\b", where, re.IGNORECASE)]
    return named[0] if len(named) == 1 else None


def label_question(labels: Sequence[str], question: str | None) -> str:
    return question or f"Is it {', '.join(labels[:-1])} or {labels[-1]}?"


def render_question(tokenizer: Any, sample: str, question: str, *, chat: bool, options: Sequence[str] = YES_NO) -> str:
    if chat:
        hint = " or ".join(options)
        messages = [{"role": "user", "content": f"{sample}\n\n{question} Answer {hint}."}]
        return str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
    return f"{sample}\nQuestion: {question}\nAnswer:"


def yes_probabilities(lm: TextModel, prompts: Sequence[str], *, chat: bool, batch_size: int = 8) -> list[float]:
    """P(Yes) / (P(Yes) + P(No)) for the token after each prompt."""
    return [p[0] for p in lm.option_probabilities(prompts, YES_NO, chat=chat, batch_size=batch_size)]


FLUENT_MARGIN = 1.0  # nats per token the words in order must beat their shuffle by to score 0.5


def shuffled_words(text: str) -> str:
    """The text's words in a fixed pseudo-random order (seeded by the text, so grading is deterministic)."""
    words = text.split()
    random.Random(zlib.crc32(text.encode())).shuffle(words)
    return " ".join(words)


def likelihood_criteria(
    lm: TextModel, samples: Sequence[dict[str, str]], domain: str, *, batch_size: int = 8
) -> dict[str, list[float]]:
    """relevance, fluency and (for instruction samples) plausibility from the expert's likelihoods."""
    def lp(contexts: list[str], continuations: list[str]) -> list[float]:
        return lm.continuation_logprobs(contexts, continuations, batch_size=batch_size)

    n = len(samples)
    heads = [s.get("instruction") or s.get("text", "") for s in samples]
    on_domain = lp([f"A question about {domain}:\n"] * n, heads)
    anywhere = lp(["A question:\n"] * n, heads)
    out = {"relevance": [_sigmoid(4 * (a - b)) for a, b in zip(on_domain, anywhere, strict=True)]}
    asked = [f"Question: {s['instruction']}\nAnswer:" if s.get("instruction") else "Text:" for s in samples]
    words = [s.get("response") or s.get("text", "") for s in samples]
    bodies = [f" {w}\n" for w in words]
    given = lp(asked, bodies)
    scrambled = lp(asked, [f" {shuffled_words(w)}\n" for w in words])
    out["fluency"] = [_sigmoid(2 * (g - s - FLUENT_MARGIN)) for g, s in zip(given, scrambled, strict=True)]
    if any(s.get("instruction") for s in samples):
        alone = lp(["Answer:"] * n, bodies)
        out["plausibility"] = [_sigmoid(4 * (g - a)) if s.get("instruction") else 0.5
                               for g, a, s in zip(given, alone, samples, strict=True)]
    return out


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def grade_samples(
    *,
    lm: TextModel,
    samples: Sequence[dict[str, str]],
    domain: str,
    chat: bool,
    labels: Sequence[str] | None = None,
    label_prompt: str | None = None,
    method: GradingMethod = GradingMethod.LIKELIHOOD,
    label_calibration: LabelCalibration = LabelCalibration.BATCH,
    criteria: Mapping[str, str] | None = None,
    batch_size: int = 8,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Grade]:
    """Score every sample on every criterion; the order of the result follows ``samples``.

    ``criteria`` (name -> question with ``{domain}``) asks these questions instead (as ``questions``
    grading does); table rows are graded this way on ``TABLE_CRITERIA``.

    With ``labels``, a sample whose instruction names no single label scores 0 on the condition.
    """
    texts = [sample_text(s) for s in samples]
    if criteria is not None:
        method = GradingMethod.QUESTIONS
    questions = criteria if criteria is not None else CRITERIA
    steps = (1 if method is GradingMethod.LIKELIHOOD else len(questions)) + (1 if labels else 0)
    per_criterion: dict[str, list[float]] = {}

    def answers(prompt_texts: Sequence[str], question: str, options: Sequence[str]) -> tuple[list[list[float]], list[float]]:
        """The expert's distribution over ``options`` for each text, and for the content-free sample."""
        prompts = [render_question(lm.tokenizer, t, question, chat=chat, options=options) for t in prompt_texts]
        raw = lm.option_probabilities(prompts, options, chat=chat, batch_size=batch_size)
        content_free = render_question(lm.tokenizer, CONTENT_FREE, question, chat=chat, options=options)
        return raw, lm.option_probabilities([content_free], options, chat=chat)[0]

    def ask(prompt_texts: Sequence[str], question: str, options: Sequence[str]) -> list[list[float]]:
        raw, prior = answers(prompt_texts, question, options)
        return [_calibrated(p, prior) for p in raw]

    if method is GradingMethod.LIKELIHOOD:
        per_criterion.update(likelihood_criteria(lm, samples, domain, batch_size=batch_size))
        if on_progress is not None:
            on_progress(1, steps)
    else:
        for i, (name, question) in enumerate(questions.items(), start=1):
            per_criterion[name] = [p[0] for p in ask(texts, question.format(domain=domain), YES_NO)]
            if on_progress is not None:
                on_progress(i, steps)
    requested: list[str | None] = [None] * len(samples)
    if labels:
        requested = [requested_label(s, labels) for s in samples]
        shown = [f"Text: {s.get('response') or s.get('text', '')}" for s in samples]
        raw, content_free = answers(shown, label_question(labels, label_prompt), labels)
        bias = (label_bias(raw, requested, labels, content_free)
                if label_calibration is LabelCalibration.BATCH else content_free)
        distributions = [_calibrated(p, bias) for p in raw]
        per_criterion[CONDITION] = [
            d[list(labels).index(want)] if want is not None else 0.0 for d, want in zip(distributions, requested, strict=True)
        ]
        if on_progress is not None:
            on_progress(steps, steps)
    grades = []
    for j in range(len(samples)):
        scores = {name: per_criterion[name][j] for name in per_criterion}
        weakest = min(scores, key=scores.__getitem__)
        reason = ", ".join(f"{k} {v:.2f}" for k, v in scores.items()) + f" (weakest: {weakest})"
        if labels and requested[j] is None:
            reason += "; the instruction names no single label"
        grades.append(Grade(score=sum(scores.values()) / len(scores), criteria=scores, reason=reason, label=requested[j]))
    return grades


def passes(grade: Grade, *, min_grade: float, min_condition: float) -> bool:
    """Kept: the mean grade reaches ``min_grade`` and, where a label was requested, the label condition
    reaches ``min_condition``."""
    return grade.score >= min_grade and grade.criteria.get(CONDITION, 1.0) >= min_condition


CALIBRATION_WEIGHT = 4  # the content-free estimate counts as this many samples of the batch


def label_bias(distributions: Sequence[Sequence[float]], requested: Sequence[str | None], labels: Sequence[str],
               content_free: Sequence[float], *, calibration_weight: float = CALIBRATION_WEIGHT) -> list[float]:
    """The expert's bias over the labels: its mean answer over the batch, each requested label weighing
    the same (so a batch requested 70/30 does not read as a bias toward the 70), shrunk toward the
    content-free answer by ``calibration_weight`` pseudo-samples. A sample then passes as label A when the
    expert sees more of A in it than in the batch's average sample: assumes the batch roughly follows its
    requests; a generator that ignores them makes the check rank samples within the batch."""
    groups = [[d for d, r in zip(distributions, requested, strict=True) if r == label] for label in labels]
    groups = [g for g in groups if g] or ([list(distributions)] if distributions else [])
    if not groups:
        return list(content_free)
    k = len(labels)
    mean = [sum(sum(d[i] for d in g) / len(g) for g in groups) / len(groups) for i in range(k)]
    n = sum(len(g) for g in groups)
    w = n / (n + calibration_weight)
    return _normalized([w * m + (1 - w) * c for m, c in zip(_normalized(mean), _normalized(content_free), strict=True)])


def _normalized(values: Sequence[float]) -> list[float]:
    total = sum(values)
    return [v / total for v in values]


def _calibrated(probs: Sequence[float], prior: Sequence[float]) -> list[float]:
    """The distribution after dividing each option's probability by its content-free prior."""
    return _normalized([p / max(q, 1e-6) for p, q in zip(probs, prior, strict=True)])
