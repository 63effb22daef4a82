"""The grading criteria on the bundled expert (Gemma 3 270M), on hand-written reviews: the label check
tells sentiment once calibrated by the batch, and fluency separates text from word salad."""

from __future__ import annotations

import pytest

from server_node.inference import LocalTextModel
from server_node.pipeline.grade import CONDITION, LabelCalibration, grade_samples, likelihood_criteria
from shared.compute import resolve_compute
from shared.constants import DEFAULT_EXPERT_MODEL
from shared.models.loading import load_for

POSITIVE = [
    "I love this dress. The fabric is soft, it fits perfectly and the color is even prettier in person.",
    "Great sweater, warm and cozy without being bulky. I bought it in two colors and get compliments every time.",
    "These jeans are perfect: flattering cut, comfortable all day, and true to size. Highly recommend.",
    "Beautiful blouse, well made and very flattering. It looks more expensive than it was.",
    "So comfortable and cute! The top drapes nicely and washes well. My new favorite.",
    "Gorgeous skirt with a lovely flow. Fits true to size and the quality is excellent.",
]
NEGATIVE = [
    "Very disappointed. The fabric is thin and scratchy, and the seams came apart after one wash.",
    "This dress looked nothing like the picture. It was huge in the waist and the color was dull. Returned it.",
    "Terrible quality. The sweater pilled the first day and shrank badly. Not worth the money.",
    "The pants were way too tight and the zipper broke the second time I wore them. Sending back.",
    "Awful fit, the top was boxy and unflattering, and the material felt cheap. Would not buy again.",
    "The skirt arrived with a stain and a loose hem. Poorly made and overpriced.",
]
LABELS = ["negative", "positive"]


@pytest.fixture(scope="module")
def expert(model_settings) -> LocalTextModel:
    gemma = load_for(DEFAULT_EXPERT_MODEL, resolve_compute(), settings=model_settings)
    return LocalTextModel(gemma.model, gemma.tokenizer)


def test_batch_calibrated_label_check_tells_the_given_label_from_the_other(expert: LocalTextModel) -> None:
    truth = [(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]
    flip = {"positive": "negative", "negative": "positive"}
    samples = [{"text": t, "conditions": {"label": lab}} for t, lab in truth]
    samples += [{"text": t, "conditions": {"label": flip[lab]}} for t, lab in truth]
    grades = grade_samples(lm=expert, samples=samples, domain="customer reviews of clothing", chat=False,
                           labels=LABELS, label_calibration=LabelCalibration.BATCH)
    condition = [g.criteria[CONDITION] for g in grades]
    given, flipped = condition[: len(truth)], condition[len(truth):]
    # the same text under both labels: complementary scores, and the given label wins for most texts
    # (up to a few hundredths apart: the two copies sit in different padded batches, in bf16 on such CPUs)
    assert all(a + b == pytest.approx(1.0, abs=0.05) for a, b in zip(given, flipped, strict=True))
    right = [a >= 0.5 for a in given]
    assert sum(right[: len(POSITIVE)]) >= 4 and sum(right[len(POSITIVE):]) >= 4, given


def test_fluency_separates_text_from_word_salad(expert: LocalTextModel) -> None:
    salad = ["good good good good good good good good good good", "asdf qwer zxcv uiop hjkl vbnm",
             "dress the is very the fabric and and soft"]
    scores = likelihood_criteria(expert, [{"text": t} for t in POSITIVE[:3] + NEGATIVE[:3] + salad],
                                 "customer reviews of clothing")["fluency"]
    assert min(scores[:6]) > 0.5 > max(scores[6:]), scores
