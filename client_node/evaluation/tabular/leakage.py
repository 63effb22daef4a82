"""DLT (HARMONIC's data leakage test): the perplexity gap between held-out and training rows under the
generator, each row scored from the bare prompt. A generator that memorized its training rows finds
them much likelier than fresh rows (gap > 0); the same losses give a loss-threshold MIA AUC."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from client_node.evaluation.heldout import per_record_losses
from client_node.evaluation.privacy.membership import loss_threshold_auc
from shared.prompts import GenerationTemplate
from shared.records import Record
from shared.tables.rows import Row, row_json


def dlt_report(model: Any, tokenizer: Any, template: GenerationTemplate, train: Sequence[Row], holdout: Sequence[Row], *,
               max_length: int = 1024, seed: int = 0) -> dict[str, Any]:
    """Perplexities of as many training rows as held-out ones (at most 200 each), their gap and the MIA AUC."""
    assert template.table is not None
    if not train or not holdout:
        return {"skipped": "no training or no held-out rows"}
    rng = random.Random(seed)
    n = min(len(holdout), len(train), 200)
    members, others = rng.sample(list(train), n), rng.sample(list(holdout), n)
    names = template.table.names

    def losses(rows: Sequence[Row]) -> list[float]:
        records = [Record(instruction="", response=row_json(r, names)) for r in rows]
        return per_record_losses(model, tokenizer, template, records, max_length=max_length)

    inside, outside = losses(members), losses(others)
    ppl_train = math.exp(sum(inside) / n)
    ppl_holdout = math.exp(sum(outside) / n)
    return {"perplexity_train": ppl_train, "perplexity_holdout": ppl_holdout, "gap": ppl_holdout - ppl_train,
            "mia_auc": loss_threshold_auc(inside, outside), "rows": n}
