"""The quality benchmark as one self-contained HTML file: the table, a privacy-utility curve, the expert's
grade histograms and DCR histograms, drawn as inline SVG (no scripts, no external files)."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]
W, H, PAD = 520, 260, 44


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _axes(x_label: str, y_label: str, y_min: float, y_max: float) -> list[str]:
    parts = [f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#333"/>',
             f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{H - PAD}" stroke="#333"/>',
             f'<text x="{(W + PAD) / 2}" y="{H - 8}" text-anchor="middle" font-size="12">{html.escape(x_label)}</text>',
             f'<text x="12" y="{H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 12 {H / 2})">'
             f'{html.escape(y_label)}</text>']
    for i in range(5):
        value = y_min + (y_max - y_min) * i / 4
        y = _y(value, y_min, y_max)
        parts.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{value:.2f}</text>')
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{W - 10}" y2="{y:.1f}" stroke="#eee"/>')
    return parts


def _y(value: float, y_min: float, y_max: float) -> float:
    span = (y_max - y_min) or 1.0
    return (H - PAD) - (value - y_min) / span * (H - PAD - 10)


def line_chart(x_labels: Sequence[str], series: dict[str, Sequence[float | None]], references: dict[str, float],
               *, x_label: str, y_label: str) -> str:
    """Lines over categorical x positions, and dashed horizontal reference lines."""
    values = [v for vs in series.values() for v in vs if v is not None] + list(references.values())
    y_min, y_max = (min(values), max(values)) if values else (0.0, 1.0)
    margin = (y_max - y_min) * 0.1 or 0.05
    y_min, y_max = y_min - margin, y_max + margin
    parts = _axes(x_label, y_label, y_min, y_max)
    step = (W - PAD - 30) / max(1, len(x_labels) - 1)
    xs = [PAD + 10 + i * step for i in range(len(x_labels))]
    for x, label in zip(xs, x_labels, strict=True):
        parts.append(f'<text x="{x:.1f}" y="{H - PAD + 14}" text-anchor="middle" font-size="11">{html.escape(label)}</text>')
    legend = []
    for k, (name, ys) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        points = [(x, _y(v, y_min, y_max)) for x, v in zip(xs, ys, strict=True) if v is not None]
        if points:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                         + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>' for x, y in points]
        legend.append((name, color, False))
    for k, (name, value) in enumerate(references.items(), start=len(series)):
        color = COLORS[k % len(COLORS)]
        y = _y(value, y_min, y_max)
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{W - 10}" y2="{y:.1f}" stroke="{color}" stroke-dasharray="6 4"/>')
        legend.append((name, color, True))
    return _svg(parts, legend)


def histogram(groups: dict[str, Sequence[float]], *, x_label: str, bins: int = 20,
              x_range: tuple[float, float] | None = None) -> str:
    """Overlaid step histograms (density) of each group."""
    values = [v for vs in groups.values() for v in vs]
    if not values:
        return "<p>(no data)</p>"
    lo, hi = x_range or (min(values), max(values))
    if hi <= lo:
        hi = lo + 1e-6
    width = (hi - lo) / bins
    densities = {}
    for name, vs in groups.items():
        counts = [0] * bins
        for v in vs:
            counts[min(bins - 1, max(0, int((v - lo) / width)))] += 1
        total = max(1, len(vs))
        densities[name] = [c / total for c in counts]
    y_max = max(max(d) for d in densities.values()) or 1.0
    parts = _axes(x_label, "share", 0.0, y_max * 1.1)
    plot_w = W - PAD - 10
    for i in range(0, bins + 1, max(1, bins // 5)):
        x = PAD + plot_w * i / bins
        parts.append(f'<text x="{x:.1f}" y="{H - PAD + 14}" text-anchor="middle" font-size="10">{lo + i * width:.2f}</text>')
    legend = []
    for k, (name, d) in enumerate(densities.items()):
        color = COLORS[k % len(COLORS)]
        points = []
        for i, value in enumerate(d):
            y = _y(value, 0.0, y_max * 1.1)
            points += [(PAD + plot_w * i / bins, y), (PAD + plot_w * (i + 1) / bins, y)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        legend.append((f"{name} (n={len(groups[name])})", color, False))
    return _svg(parts, legend)


def _svg(parts: list[str], legend: list[tuple[str, str, bool]]) -> str:
    rows = len(legend)
    total_h = H + 16 * rows + 8
    for i, (name, color, dashed) in enumerate(legend):
        y = H + 8 + 16 * i
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(f'<line x1="{PAD}" y1="{y}" x2="{PAD + 24}" y2="{y}" stroke="{color}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{PAD + 30}" y="{y + 4}" font-size="11">{html.escape(name)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{total_h}" viewBox="0 0 {W} {total_h}">'
            + "".join(parts) + "</svg>")


def render_html(result: dict[str, Any]) -> str:
    """The quality benchmark as HTML: the table, the checks, TSTR AUC against epsilon beside the controls,
    the expert's grades, distances to the closest private record, and canary exposure per repeat count."""
    from bench.quality import BASE, BASE_GRADED, PIPELINE, RAW, REAL, TABLE_COLUMNS, table_rows

    rows = table_rows(result)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in TABLE_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in TABLE_COLUMNS) + "</tr>"
                   for r in rows)
    measured = result["rows"]
    epsilons = sorted({r["epsilon"] for r in measured if r["row"] in (RAW, PIPELINE)},
                      key=lambda e: math.inf if e == "inf" else float(e))
    auc = {name: [next(((r.get("tstr") or {}).get("auc") for r in measured if r["row"] == name and r["epsilon"] == e),
                       None) for e in epsilons] for name in (PIPELINE, RAW)}
    references = {name: (r.get("tstr") or {}).get("auc") for r in measured for name in (REAL, BASE, BASE_GRADED)
                  if r["row"] == name and (r.get("tstr") or {}).get("auc") is not None}
    curve = line_chart(epsilons, auc, references, x_label="epsilon", y_label="TSTR ROC AUC")
    grades = histogram({f"{r['row']} (eps {r['epsilon']})": r["grades"] for r in measured if r.get("grades")},
                       x_label="expert grade (all generated samples)", x_range=(0.0, 1.0))
    dcr = histogram({"real held-out": result["holdout_dcr_distances"]} | {
        f"{r['row']} (eps {r['epsilon']})": r["dcr_distances"] for r in measured if r.get("dcr_distances")},
        x_label="cosine distance to the closest private record (MiniLM)", bins=24)
    attacked = [r for r in measured if r.get("attacks")]
    canary_head = "".join(f"<th>x{c['repeats']}</th>" for c in result["canaries"])
    exposures = "".join(
        f"<tr><td>{html.escape(r['row'])}</td><td>{html.escape(r['epsilon'])}</td>"
        + "".join(f"<td>{c['exposure']:.2f}{' (extracted)' if c['extracted'] else ''}</td>"
                  for c in r["attacks"]["canaries"]) + "</tr>" for r in attacked)
    checks = "".join(f"<li>{'yes' if ok else 'NO' if ok is not None else '-'}: {html.escape(name)}</li>"
                     for name, ok in (result.get("must_hold") or {}).items())
    settings = html.escape(", ".join(f"{k}={v}" for k, v in result["settings"].items()))
    machine = html.escape(", ".join(f"{k}={v}" for k, v in result["machine"].items()))
    conditions = html.escape("; ".join(f"{k}: {', '.join(v)}" for k, v in result["conditions"].items()))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>privsynth quality benchmark</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1150px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 7px;text-align:right}} td:first-child,th:first-child{{text-align:left}}
.figs{{display:flex;flex-wrap:wrap;gap:24px}} .small{{color:#555;font-size:12px}}</style></head><body>
<h1>Quality benchmark: conditional synthesis with controls</h1>
<p>Private data: {result['settings']['n_train']} labelled reviews (Women's E-Commerce Clothing Reviews) with
declared conditions ({conditions}), planted canaries ({', '.join(f"x{c['repeats']}" for c in result['canaries'])})
and {result['pii_items']} PII items. TSTR: TF-IDF + logistic regression trained on each row's samples and the
labels they were written for, tested on {result['settings']['n_test']} real reviews (standard errors by
bootstrap over them). Total time {result.get('total_seconds')} s. Command: <code>{html.escape(result.get('command', ''))}</code></p>
<table><tr>{head}</tr>{body}</table>
<ul class="small">{checks}</ul>
<p class="small">kept loss vs dp: held-out loss (text given its conditions) of the knowledge adapter and of the
client's DP adapter. win vs dp: the expert's pairwise judgement of what each writes for held-out records'
conditions, both orders. mia: loss threshold on the DP adapter; calibrated: minus the base model's loss.</p>
<div class="figs"><div><h3>TSTR AUC against epsilon</h3>{curve}</div><div><h3>Expert grades</h3>{grades}</div>
<div><h3>Distance to closest private record</h3>{dcr}</div></div>
<h3>Canary exposure (bits; rank among {result['settings']['exposure_candidates']} random secrets) per repeat count</h3>
<table><tr><th>row</th><th>epsilon</th>{canary_head}</tr>{exposures}</table>
<p class="small">Record-level DP bounds one record; a secret repeated in 16 or 64 records is not bounded by it.</p>
<p class="small">settings: {settings}</p><p class="small">machine: {machine}</p>
</body></html>
"""


def write_html(result: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(result))
    return path


def _by_epsilon(rows: Sequence[dict[str, Any]], epsilons: Sequence[Any],
                metric: Callable[[dict[str, Any]], float | None], route: str) -> list[float | None]:
    """The metric at each epsilon, averaged over the route's repeats there."""
    out: list[float | None] = []
    for e in epsilons:
        values = [v for v in (metric(r) for r in rows if r["route"] == route and r["epsilon"] == e) if v is not None]
        out.append(sum(values) / len(values) if values else None)
    return out


def render_tabular_html(result: dict[str, Any], columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """The tabular benchmark as HTML: the table, then per dataset each route's gradient-boosting AUC and DCR
    against epsilon, train-on-real as the reference line."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>" for r in rows)
    figures = []
    for dataset in dict.fromkeys(r["dataset"] for r in result["rows"]):
        mine = [r for r in result["rows"] if r["dataset"] == dataset]
        epsilons = sorted({r["epsilon"] for r in mine if r["route"] != "real"},
                          key=lambda e: math.inf if e == "inf" else float(e))
        x_labels = [str(e) for e in epsilons]
        routes = list(dict.fromkeys(r["route"] for r in mine if r["route"] != "real"))

        def auc(row: dict[str, Any]) -> float | None:
            return row["kept"]["tstr"].get("synthetic", {}).get("gradient_boosting", {}).get("auc")

        def dcr(row: dict[str, Any]) -> float | None:
            return row["kept"]["dcr"].get("synthetic", {}).get("p05")

        real = next((auc(r) for r in mine if r["route"] == "real"), None)
        figures.append(f"<div><h3>{html.escape(dataset)}: TSTR AUC (gradient boosting)</h3>" + line_chart(
            x_labels, {route: _by_epsilon(mine, epsilons, auc, route) for route in routes},
            {"train on real": real} if real is not None else {}, x_label="epsilon",
            y_label="AUC on real test rows") + "</div>")
        held_out = next((r["kept"]["dcr"].get("holdout", {}).get("p05") for r in mine if r["route"] == "real"), None)
        figures.append(f"<div><h3>{html.escape(dataset)}: distance to closest training row (5th percentile)</h3>"
                       + line_chart(x_labels, {route: _by_epsilon(mine, epsilons, dcr, route) for route in routes},
                                    {"test rows": held_out} if held_out is not None else {}, x_label="epsilon",
                                    y_label="DCR p05 (encoded rows)") + "</div>")
    settings = html.escape(", ".join(f"{k}={v}" for k, v in result["settings"].items()))
    machine = html.escape(", ".join(f"{k}={v}" for k, v in result["machine"].items()))
    published = html.escape(str(result.get("published", {})))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>privsynth tabular benchmark</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1150px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 7px;text-align:right}} td:first-child,th:first-child{{text-align:left}}
.figs{{display:flex;flex-wrap:wrap;gap:24px}} .small{{color:#555;font-size:12px}}</style></head><body>
<h1>Tabular benchmark: DP table synthesis by route at the same epsilon</h1>
<p>Each row: one route's synthetic rows at one total epsilon (real: the training rows themselves). TSTR: classifiers
fit on the synthetic rows, tested on real rows never used in training; standard errors by bootstrap over the test
rows. Total time {result.get('seconds')} s.</p>
<table><tr>{head}</tr>{body}</table>
<p class="small">Published reference (not rerun here): {published}</p>
<div class="figs">{''.join(figures)}</div>
<p class="small">settings: {settings}</p><p class="small">machine: {machine}</p>
</body></html>
"""
