"""The quality benchmark at its smallest, on the real bundled models and the real review data: every group
of rows is measured, the numbers are in range, and the HTML report is one self-contained file."""

from __future__ import annotations

import json

import pytest

from bench import knowledge as knowledge_bench
from bench.html_report import render_html
from bench.quality import (
    BASE,
    BASE_GRADED,
    PIPELINE,
    RAW,
    REAL,
    TABLE_COLUMNS,
    QualitySettings,
    must_hold,
    run_quality,
    table_rows,
)
from shared.config import ModelSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.bench]


@pytest.mark.timeout(3000)
def test_quick_quality_benchmark_measures_every_row(tmp_path) -> None:
    settings = QualitySettings.quick().model_copy(update={"n_train": 64, "n_holdout": 24, "n_test": 100, "n_samples": 12,
                                                           "mia_members": 16, "judge_records": 4,
                                                           "exposure_candidates": 15, "max_new_tokens": 32})
    wheels = ModelSettings().model_cache / "wheels"
    result = run_quality(settings, wheels_dir=wheels, log=lambda _: None, artifacts=tmp_path)
    json.dumps(result)  # JSON-able as saved
    rows = {(r["row"], r["epsilon"]): r for r in result["rows"]}
    assert set(rows) == {(REAL, "-"), (BASE, "-"), (BASE_GRADED, "-"), (RAW, "8"), (PIPELINE, "8"), (RAW, "inf"),
                         (PIPELINE, "inf")}
    assert 0.5 < rows[(REAL, "-")]["tstr"]["auc"] <= 1.0 and rows[(REAL, "-")]["tstr"]["se"]["auc"] > 0
    certificate = result["groups"]["eps=8"]["certificate"]
    assert certificate["epsilon"] <= 8.0 + 1e-6 and certificate["releases"] == ["condition-counts"]
    assert certificate["ledger"]["runs"] == 1 and certificate["condition_counts"]["noise_multiplier"] == 10.0
    for key in ((BASE, "-"), (RAW, "8"), (RAW, "inf")):  # samples asked for every combination of conditions
        row = rows[key]
        assert row["samples"] > 0 and sum(row["per_condition"].values()) == row["samples"]
        assert 0.0 <= row["dcr"]["median"] <= 2.0 and 0.0 <= row["pii_rate"] <= 1.0
    for eps in ("8", "inf"):
        attacks = rows[(RAW, eps)]["attacks"]
        assert 0.0 <= attacks["mia_auc"] <= 1.0 and 0.0 <= attacks["mia_auc_calibrated"] <= 1.0
        assert [c["repeats"] for c in attacks["canaries"]] == [1, 16]
        knowledge = rows[(PIPELINE, eps)]["knowledge"]
        if rows[(PIPELINE, eps)]["samples"]:  # grading kept something to train a knowledge adapter on
            assert knowledge["heldout_loss"]["knowledge"] > 0 and 0.0 <= knowledge["win_rate_vs_dp"]["win_rate"] <= 1.0
    checks = must_hold(result)
    assert len(checks) == 11 and all(v in (True, False, None) for v in checks.values())
    table = table_rows(result)
    assert set(TABLE_COLUMNS) <= set(table[0]) and len(table) == len(result["rows"])
    page = render_html({**result, "must_hold": checks})
    assert page.startswith("<!doctype html>") and page.count("<svg") == 3
    assert "<script" not in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")

    # the knowledge experiment reuses the run's artifacts: both starts measured against the DP adapter
    kept = rows[(PIPELINE, "8")]["samples"]
    if kept:
        both = knowledge_bench.run(settings, tmp_path, [8.0], wheels_dir=wheels, log=lambda _: None)
        assert [r["start"] for r in both["rows"]] == ["base", "parent"]
        assert all(r["kept samples"] == kept and r["loss knowledge"] > 0 for r in both["rows"])
