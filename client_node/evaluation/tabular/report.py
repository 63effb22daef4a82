"""A table run's report: TSTR and per-column fidelity (utility), DCR, copies and DLT (privacy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from client_node.evaluation.tabular.distance import dcr_report
from client_node.evaluation.tabular.fidelity import fidelity_report
from client_node.evaluation.tabular.leakage import dlt_report
from client_node.evaluation.tabular.tstr import tstr_report
from shared.adapters.codec import DecodedAdapter
from shared.adapters.peft_io import load_lora
from shared.compute import Compute
from shared.models.loading import load_for
from shared.models.resolve import ResolvedModel
from shared.tables.rows import Row
from shared.tables.schema import TableSchema


def table_report(*, base: ResolvedModel, schema: TableSchema, train: Sequence[Row], holdout: Sequence[Row],
                 synthetic: Sequence[Row], test: Sequence[Row] | None = None, generators: dict[str, DecodedAdapter],
                 max_length: int = 1024, seed: int = 0, compute: Compute | None = None) -> dict[str, Any]:
    """Utility against ``test`` (default: the held-out rows), privacy against the training rows; DLT for
    each generator adapter named in ``generators``."""
    test = list(test) if test is not None else list(holdout)
    dlt = {}
    for name, adapter in generators.items():
        loaded = load_for(base, compute)
        model = load_lora(loaded.model, adapter).merge_and_unload()
        dlt[name] = dlt_report(model, loaded.tokenizer, adapter.metadata.template, train, holdout,
                               max_length=max_length, seed=seed)
    return {"utility": {"tstr": tstr_report(train, synthetic, test, schema, seed=seed),
                        "fidelity": fidelity_report(train, synthetic, schema)},
            "privacy": {"dcr": dcr_report(synthetic, train, holdout, schema), "dlt": dlt}}
