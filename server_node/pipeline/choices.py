"""The pipeline's switchable behaviours, as the server's settings name them; light to import (no torch),
so settings and docs read them without loading the ML code."""

from __future__ import annotations

from enum import StrEnum


class GradingMethod(StrEnum):
    """How relevance and fluency are scored: from likelihoods (default) or Yes/No questions (see grade.py)."""

    LIKELIHOOD = "likelihood"
    QUESTIONS = "questions"


class LabelCalibration(StrEnum):
    """How the condition check's answer is calibrated: by the graded batch (default) or by the content-free
    sample alone (the older behaviour, kept to compare)."""

    BATCH = "batch"
    CONTENT_FREE = "content-free"


class KnowledgeStart(StrEnum):
    """Where the knowledge adapter's training starts: fresh LoRA on the base, or the client's DP adapter."""

    BASE = "base"
    PARENT = "parent"
