"""The quality benchmark at its smallest, on the real bundled models and the real review data: every row
is measured, the numbers are in range, and the HTML report is one self-contained file."""

from __future__ import annotations

import json
import math

import pytest

from bench.html_report import render_html
from bench.quality import TABLE_COLUMNS, QualitySettings, run_quality, table_rows
from shared.config import ModelSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.bench]


@pytest.mark.timeout(3000)
def test_quick_quality_benchmark_measures_every_row() -> None:
    settings = QualitySettings.quick().model_copy(update={"n_train": 48, "n_holdout": 24, "n_test": 100, "n_samples": 12,
                                                           "mia_members": 24, "win_instructions": 4,
                                                           "exposure_candidates": 15, "vote_samples": 4,
                                                           "vote_max_new_tokens": 24, "vote_groups": 12})
    result = run_quality(settings, wheels_dir=ModelSettings().model_cache / "wheels", log=lambda _: None)
    json.dumps(result)  # JSON-able as saved
    names = [r["row"] for r in result["rows"]]
    assert names[0].startswith("base model")
    assert {"DP adapter used directly", "DP generation, no server refinement", "full pipeline (ours)",
            "non-private fine-tuning (adapter used directly)"} <= set(names)
    assert sorted(r["epsilon"] for r in result["rows"] if r["row"] == "full pipeline (ours)") == ["8", "inf"]
    assert 0.5 < result["real_data"]["accuracy"] <= 1.0
    assert result["certificates"]["eps=8"]["epsilon_spent"] <= 8.0 + 1e-6
    assert math.isinf(result["certificates"]["eps=inf"]["epsilon_spent"])
    votes = result["certificates"]["votes gaussian eps=8"]
    assert votes["epsilon_spent"] <= 8.0 + 1e-6 and votes["ledger"]["runs"] == 1
    assert sum(votes["tokens_spent"].values()) > 0 and votes["plan"]["tokens_per_stratum"] == 2 * 24
    assert [r["epsilon"] for r in result["rows"] if r["row"] == "training-free DP votes (gaussian)"] == ["8"]
    for row in result["rows"]:
        assert 0.0 <= row["pii_rate"] <= 1.0 and 0 <= row["canaries_leaked"] <= len(result["canaries"])
        # a row has a model unless grading kept nothing to train one on (a job would fail the same way)
        has_model = row["row"].endswith("used directly)") or row["row"] == "DP adapter used directly" or row["samples"] > 0
        if has_model:
            assert 0.0 <= row["mia_auc"] <= 1.0 and 0.0 <= row["win_rate"]["win_rate"] <= 1.0
            assert row["heldout_loss"] > 0 and len(row["canary_exposure"]) == len(result["canaries"])
        if row["samples"]:
            assert 0.0 <= row["dcr"]["median"] <= 2.0
    full = [r for r in result["rows"] if r["row"] == "full pipeline (ours)"]
    assert all(len(r["grades"]) >= r["samples"] for r in full)  # grades of all generated, kept are a subset
    rows = table_rows(result)
    assert set(TABLE_COLUMNS) <= set(rows[1]) and len(rows) == len(result["rows"]) + 1  # rows[0]: train on real
    page = render_html(result)
    assert page.startswith("<!doctype html>") and page.count("<svg") == 4
    assert "<script" not in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
