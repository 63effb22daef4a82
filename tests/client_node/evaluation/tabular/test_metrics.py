"""Table metrics: TSTR beside train-on-real, DCR and copies, per-column fidelity, DLT."""

import math
import random

import pytest

from client_node.evaluation.tabular.distance import dcr_report
from client_node.evaluation.tabular.fidelity import fidelity_report, total_variation
from client_node.evaluation.tabular.leakage import dlt_report
from client_node.evaluation.tabular.tstr import CLASSIFIERS, tstr_report
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import GenerationTemplate
from shared.tables.schema import ColumnSpec, TableSchema

SCHEMA = TableSchema(columns=[ColumnSpec(name="x", kind="float"), ColumnSpec(name="c", kind="categorical"),
                              ColumnSpec(name="y", kind="categorical", categories=["a", "b"])], label="y")


def _rows(n: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        y = rng.choice("ab")
        out.append({"x": f"{rng.gauss(0 if y == 'a' else 3, 1):.3f}", "c": rng.choice(["u", "v"]), "y": y})
    return out


def test_tstr_scores_every_classifier_beside_real() -> None:
    train, test = _rows(200, 0), _rows(200, 1)
    report = tstr_report(train, _rows(200, 2), test, SCHEMA)
    assert set(report["synthetic"]) == set(report["real"]) == set(CLASSIFIERS)
    for name in CLASSIFIERS:
        assert report["real"][name]["accuracy"] > 0.85 and report["real"][name]["mcc"] > 0.7
        assert report["synthetic"][name]["mcc"] > 0.7  # synthetic from the same distribution trains as well
        assert report["synthetic"][name]["auc"] > 0.9 and report["synthetic"][name]["f1"] > 0.8
        se = report["synthetic"][name]["se"]
        assert 0.005 < se["auc"] < 0.05 and 0.01 < se["accuracy"] < 0.05  # about sqrt(p (1 - p) / 200)
    assert report["positive"] == "b"
    one_class = [{**r, "y": "a"} for r in _rows(50, 3)]
    degenerate = tstr_report(train, one_class, test, SCHEMA)["synthetic"]["random_forest"]
    assert degenerate["mcc"] == 0.0 and degenerate["accuracy"] == pytest.approx(sum(r["y"] == "a" for r in test) / 200)
    assert degenerate["auc"] == 0.5 and degenerate["f1"] == 0.0


def test_dcr_separates_copies_from_fresh_rows() -> None:
    train, holdout = _rows(100, 0), _rows(50, 1)
    copied = dcr_report(train[:40], train, holdout, SCHEMA)
    assert copied["copies"] == {"count": 40, "share": 1.0} and copied["synthetic"]["p05"] == 0.0
    fresh = dcr_report(_rows(40, 5), train, holdout, SCHEMA)
    assert fresh["copies"]["count"] == 0 and fresh["synthetic"]["p05"] > 0.0
    assert fresh["holdout"]["n"] == 50 and fresh["synthetic"]["mean"] >= fresh["synthetic"]["p05"]


def test_fidelity_zero_for_the_same_rows_and_one_for_disjoint_ones() -> None:
    rows = _rows(100, 0)
    same = fidelity_report(rows, rows, SCHEMA)
    assert same["mean_tv"] == 0.0 and same["mean_ks"] == 0.0
    shifted = [{**r, "x": str(float(r["x"]) + 100), "c": "w", "y": r["y"]} for r in rows]
    apart = fidelity_report(rows, shifted, SCHEMA)
    assert apart["columns"]["x"] == {"metric": "ks", "value": 1.0} and apart["columns"]["c"]["value"] == 1.0
    assert total_variation(["a", "a"], ["a", "b"]) == 0.5


def test_dlt_reports_perplexities_gap_and_auc() -> None:
    template = GenerationTemplate.for_table("rows", SCHEMA)
    report = dlt_report(make_tiny_llama(), make_tiny_tokenizer(), template, _rows(12, 0), _rows(8, 1), max_length=256)
    assert report["rows"] == 8 and report["perplexity_train"] > 1 and report["perplexity_holdout"] > 1
    assert math.isclose(report["gap"], report["perplexity_holdout"] - report["perplexity_train"])
    assert 0.0 <= report["mia_auc"] <= 1.0
