"""The tabular benchmark at its smallest on the real models and UCI German credit: train-on-real, MST and a
small HARMONIC row measured end to end (ledger, certificate, generation counts, DLT, AUC with its error) and
the HTML report renders."""

from __future__ import annotations

import json

import pytest

from bench.html_report import render_tabular_html
from bench.tabular import TabularSettings, run_tabular, table_rows
from shared.config import ModelSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.bench]


@pytest.mark.timeout(1800)
def test_quick_tabular_benchmark_measures_every_route() -> None:
    result = run_tabular(TabularSettings.quick(), name="tabular_test", wheels_dir=ModelSettings().model_cache / "wheels",
                         log=lambda _: None)
    json.dumps(result)
    rows = {r["route"]: r for r in result["rows"]}
    assert set(rows) == {"real", "mst", "harmonic"} and all(r["dataset"] == "german" for r in rows.values())
    assert rows["real"]["n_train"] == 800 and rows["real"]["n_test"] == 200
    assert rows["mst"]["ledger"]["epsilon_spent"] <= 8.0 + 1e-6 and rows["mst"]["release"]["algorithm"] == "mst"
    for route in ("real", "mst"):
        gb = rows[route]["kept"]["tstr"]["synthetic"]["gradient_boosting"]
        assert gb["auc"] > 0.5 and 0 < gb["se"]["auc"] < 0.1  # 200 test rows: an AUC error of about 0.03
    row = rows["harmonic"]
    # one ledger run holds the reference pool's release and DP-SGD, composed in RDP into the certificate
    assert 0 < row["certificate"]["epsilon"] <= 8.0 + 1e-6 and row["ledger"]["runs"] == 1
    assert row["ledger"]["epsilon_spent"] == pytest.approx(row["certificate"]["epsilon"])
    assert row["training"]["examples"] == 40 and row["training"]["reference_pool"]["rows"] > 0
    generation = row["generation"]
    assert generation["attempts"] >= 8
    assert generation["generated"] + generation["malformed"] + generation["invalid"] + generation["duplicates"] \
        <= generation["attempts"]
    assert row["dlt"]["rows"] == 20 and 0.0 <= row["dlt"]["mia_auc"] <= 1.0
    assert 0.0 <= row["reference_copies"]["kept"] <= 1.0
    table = table_rows(result)
    page = render_tabular_html(result, list(table[0]), table)
    assert page.startswith("<!doctype html>") and "<svg" in page and "german" in page
