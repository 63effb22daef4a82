"""The benchmarks' tables and HTML reports render from their saved results (bench/results, real runs): the
reports a reader opens stay self-contained and every table row is built. The runs themselves are
benchmarks (`privsynth-bench quality --quick`, `tabular --quick`; `make test-bench` runs them as tests, and
the quality benchmark's test renders its report; its earlier, unconditioned results are archived in
bench/results/archive and not rendered by the current report)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.html_report import render_tabular_html
from bench.tabular import table_rows as tabular_rows

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def _self_contained(page: str) -> None:
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_tabular_report_renders_from_saved_results() -> None:
    result = json.loads((RESULTS / "tabular.json").read_text())
    rows = tabular_rows(result)  # repeats averaged: one line per dataset, route and epsilon
    assert len(rows) == len({(r["dataset"], r["route"], str(r["epsilon"])) for r in result["rows"]})
    assert {r["dataset"] for r in rows} == {"german", "adult"} and {"real", "mst", "aim"} <= {r["route"] for r in rows}
    assert all(0.0 <= r["gb auc"] <= 1.0 for r in rows)
    page = render_tabular_html(result, list(rows[0]), rows)
    _self_contained(page)
    assert "<svg" in page and "german" in page and "adult" in page
