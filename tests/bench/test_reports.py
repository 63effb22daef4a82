"""The benchmarks' tables and HTML reports render from their saved results (bench/results, real runs): the
reports a reader opens stay self-contained and every table row is built. The runs themselves are
benchmarks (`privsynth-bench quality --quick`, `tabular --quick`; `make test-bench` runs them as tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.html_report import render_html, render_tabular_html
from bench.quality import TABLE_COLUMNS
from bench.quality import table_rows as quality_rows
from bench.tabular import table_rows as tabular_rows

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def _self_contained(page: str) -> None:
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize("name", ["quality", "quality_quick", "quality_votes"])
def test_quality_reports_render_from_saved_results(name: str) -> None:
    result = json.loads((RESULTS / f"{name}.json").read_text())
    rows = quality_rows(result)
    assert len(rows) == len(result["rows"]) + 1 and set(TABLE_COLUMNS) <= set(rows[1])  # rows[0]: real data
    page = render_html(result)
    _self_contained(page)
    assert page.count("<svg") >= 1


def test_tabular_report_renders_from_saved_results() -> None:
    result = json.loads((RESULTS / "tabular.json").read_text())
    rows = tabular_rows(result)  # repeats averaged: one line per dataset, route and epsilon
    assert len(rows) == len({(r["dataset"], r["route"], str(r["epsilon"])) for r in result["rows"]})
    assert {r["dataset"] for r in rows} == {"german", "adult"} and {"real", "mst", "aim"} <= {r["route"] for r in rows}
    assert all(0.0 <= r["gb auc"] <= 1.0 for r in rows)
    page = render_tabular_html(result, list(rows[0]), rows)
    _self_contained(page)
    assert "<svg" in page and "german" in page and "adult" in page
