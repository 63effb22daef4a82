"""The tabular benchmark at its smallest on the real models and UCI German credit: a row is measured end
to end (ledger, certificate, generation counts, DLT) and the HTML report renders."""

from __future__ import annotations

import json

import pytest

from bench.html_report import render_tabular_html
from bench.tabular import TabularSettings, run_tabular, table_rows
from shared.config import ModelSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.bench]


@pytest.mark.timeout(1800)
def test_quick_tabular_benchmark_measures_a_row() -> None:
    result = run_tabular(TabularSettings.quick(), name="tabular_test", wheels_dir=ModelSettings().model_cache / "wheels",
                         log=lambda _: None)
    json.dumps(result)
    [row] = result["rows"]
    assert row["dataset"] == "german" and row["epsilon"] == 8.0
    assert 0 < row["certificate"]["epsilon"] <= 8.0 + 1e-6 and row["ledger"]["runs"] == 2
    assert row["training"]["examples"] == 40 and row["training"]["reference_pool"]["rows"] > 0
    generation = row["generation"]
    assert generation["attempts"] >= 8
    assert generation["generated"] + generation["malformed"] + generation["invalid"] + generation["duplicates"] \
        <= generation["attempts"]
    assert row["dlt"]["rows"] == 20 and 0.0 <= row["dlt"]["mia_auc"] <= 1.0
    rows = table_rows(result)
    page = render_tabular_html(result, list(rows[0]), rows)
    assert page.startswith("<!doctype html>") and "<svg" in page and "german" in page
