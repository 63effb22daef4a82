"""Tabular benchmark: DP synthesis of UCI German credit and Adult by every route at the same total epsilon.

Routes: ``mst`` and ``aim`` (OpenDP's marginal algorithms over the documented domains, the client's
``marginals`` generator), ``harmonic`` (the client's DP table training: reference pool from noisy per-label
histograms, k-nearest example prompts, DP-LoRA; the server's row generation and the expert's grading, only
the HTTP hops left out) and ``real`` (the training rows themselves: the ceiling). Splits: German credit 800
training rows and 200 test rows; Adult the whole adult.data (32,561) against adult.test (16,281); HARMONIC
on at most ``harmonic_train`` rows, and its DP-SGD capped at ``harmonic_steps`` (every row stays in the
reference release and the sampling) because DP-LoRA on 2 cores takes hours for thousands of rows.
Domains come from the datasets' documentation (``client_node.datasets.domains``), never from the rows.
Metrics: TSTR with logistic regression, random forest and gradient boosting (ROC AUC, positive-class F1,
accuracy, macro-F1, MCC, bootstrap standard errors over the test rows), DCR and copies against the test
rows as the held-out set, per-column fidelity; for HARMONIC also DLT.

Run:  python -m bench.tabular [--quick] [--settings JSON]   (or: privsynth-bench tabular ...)
Writes bench/results/tabular.json and .html (or tabular_quick.*); saved after each row, and a rerun with the
same name skips the rows already measured (resumable).
"""

from __future__ import annotations

import gc
import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from bench.common import RESULTS, machine, save, settings_parser, table, wheels_dir_of, with_overrides
from client_node.datasets.domains import DOMAINS
from client_node.datasets.public import adult_csv, german_credit_csv
from client_node.datasets.store import DatasetStore
from client_node.evaluation.tabular.distance import dcr_report
from client_node.evaluation.tabular.fidelity import fidelity_report
from client_node.evaluation.tabular.leakage import dlt_report
from client_node.evaluation.tabular.tstr import tstr_report
from client_node.ledger import PrivacyLedger, make_engine
from client_node.runs.runner import label_shares
from client_node.tables.intake import ParsedTable, parse_table
from client_node.tables.marginals import MarginalAlgorithm, MarginalSettings, run_marginals
from client_node.tables.settings import NeighbourSource, TableSettings
from client_node.tables.training import run_table_training
from shared.tables import row_json
from shared.tables.rows import Row
from shared.training import TrainConfig
from shared.training.config import default_delta

INF = float("inf")
# Published figures, for direction (their preprocessing and classifiers differ from ours): HARMONIC's DCR and
# its LLE/MLE range; on Adult at eps 1 (DP-2Stage, TMLR 2025) accuracy / positive-class F1 / AUC
PUBLISHED = {"german": {"dcr": 8.08}, "adult": {"dcr": 2.47}, "lle_mle_range": [0.64, 0.80],
             "adult_eps1": {"aim": [80.3, 59.6, 86.8], "mst": [72.8, 39.6, 76.8], "dp_ctgan": [75.7, 42.2, 78.0],
                            "gpt2_dp_sgd": [65.2, 27.8, 58.5], "real": [84.0, 69.9, 91.7]},
             "source": "HARMONIC (NeurIPS 2024); DP-2Stage (TMLR 2025) table of AIM, MST, DP-CTGAN, GPT-2 DP-SGD"}
TABLES = {"german": ("credit", "German bank credit applicants, coded as in the UCI file"),
          "adult": ("income", "US census adults and whether they earn over 50K a year")}
ROUTES = ("real", "mst", "aim", "harmonic", "harmonic-marginals")


class TabularSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    datasets: tuple[str, ...] = ("german", "adult")
    epsilons: tuple[float, ...] = (1.0, 4.0, 8.0)
    routes: tuple[str, ...] = ("real", "mst", "aim")
    n_train: dict[str, int | None] = {"german": 800, "adult": None}  # None: every row of the training file
    n_test: dict[str, int | None] = {"german": 200, "adult": None}  # adult: adult.test
    bootstrap: int = 200
    # runs per (dataset, route, epsilon): the DP noise (OpenDP's, unseedable) moves AUC by more than the test
    # rows' bootstrap error at German's size, so its spread is measured over repeats
    repeats: dict[str, int] = {"german": 3, "adult": 1}
    # marginals
    aim_rounds: int | None = 24
    aim_max_size: float = 20.0
    # AIM's workload weight on marginals that hold the declared label (1: OpenDP's uniform workload)
    label_weight: float = 1.0
    oneway_split: float | None = None
    # HARMONIC (DP-LoRA on the client, rows from the server's generation)
    harmonic_train: dict[str, int] = {"german": 800, "adult": 1000}
    # DP-SGD steps at most (None: the epochs'): every private row stays in the reference release and the
    # Poisson sampling (rate B/N), only the compute is cut
    harmonic_steps: dict[str, int | None] = {"german": None, "adult": None}
    reference_share: float = 0.1  # of the run's epsilon, for the reference pool's release (the rest: DP-SGD)
    harmonic_reference: str = "mst"  # route harmonic-marginals: the algorithm whose rows make the reference pool
    n_holdout: int = 64
    neighbours: int = 5
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 4e-3
    lora_rank: int = 8
    lora_targets: tuple[str, ...] = ("q_proj", "v_proj")  # all linear layers train about 2x slower here
    max_length: dict[str, int] = {"german": 1200, "adult": 850}
    n_rows: int = 64
    harmonic_bootstrap: int = 16
    max_attempts_factor: float = 2.5
    example_rows: int = 1000  # reference rows the generation prompts show, as client runs send them (0: bootstrap)
    temperature: float = 1.0  # the adapter's own distribution, untruncated (top_p 1, no top-k)
    top_p: float = 1.0
    max_new_tokens: dict[str, int] = {"german": 170, "adult": 130}
    generation_batch: int = 16
    min_grade: float = 0.5
    grade: bool = True
    label_shares: bool = True  # rows per label as client runs send them (DP: the reference pool's estimate)
    seed: int = 0

    @classmethod
    def quick(cls) -> TabularSettings:
        return cls(datasets=("german",), epsilons=(8.0,), routes=("real", "mst", "harmonic"),
                   n_train={"german": 800}, n_test={"german": 200}, harmonic_train={"german": 40}, n_holdout=20,
                   neighbours=2, n_rows=8, harmonic_bootstrap=4, max_length={"german": 768}, generation_batch=8,
                   bootstrap=50)


def documented_table(name: str, wheels_dir: Path, *, test: bool = False) -> ParsedTable:
    """The table parsed under its documented domains (german.doc, adult.names; rounded public bounds and cut
    points, ``client_node.datasets.domains``): nothing about a domain is read from the rows."""
    label, _ = TABLES[name]
    data = adult_csv(wheels_dir, test=test) if name == "adult" else german_credit_csv(wheels_dir)
    header = data.split(b"\n", 1)[0].decode().split(",")
    return parse_table(data, fmt="csv", label=label, **DOMAINS[name].as_query(header))


def split(name: str, settings: TabularSettings, wheels_dir: Path) -> tuple[ParsedTable, list[Row], list[Row]]:
    """The training rows and the disjoint test rows: German shuffled once (seeded) and cut; Adult's own files."""
    parsed = documented_table(name, wheels_dir)
    if name == "adult":
        train, test = parsed.rows, documented_table(name, wheels_dir, test=True).rows
    else:
        order = list(range(len(parsed.rows)))
        random.Random(settings.seed).shuffle(order)
        n = settings.n_train.get(name) or len(order) - (settings.n_test.get(name) or 0)
        train, test = [parsed.rows[i] for i in order[:n]], [parsed.rows[i] for i in order[n:]]
    n_train, n_test = settings.n_train.get(name), settings.n_test.get(name)
    return parsed, train[:n_train] if n_train else train, test[:n_test] if n_test else test


def utility(train: list[Row], synthetic: list[Row], test: list[Row], parsed: ParsedTable,
            settings: TabularSettings) -> dict[str, Any]:
    """TSTR (no train-on-real: the ``real`` route is that row), DCR against the test rows, fidelity."""
    return {"rows": len(synthetic),
            "tstr": tstr_report(train, synthetic, test, parsed.schema, seed=settings.seed,
                                bootstrap=settings.bootstrap, real=False),
            "dcr": dcr_report(synthetic, train, test[: len(train)], parsed.schema),
            "fidelity": fidelity_report(train, synthetic, parsed.schema)}


def run_row(name: str, route: str, epsilon: float, settings: TabularSettings, *, wheels_dir: Path, work: Path,
            log: Callable[[str], None], repeat: int = 0) -> dict[str, Any]:
    parsed, train, test = split(name, settings, wheels_dir)
    row: dict[str, Any] = {"dataset": name, "route": route, "epsilon": "inf" if epsilon == INF else epsilon,
                           "repeat": repeat, "n_train": len(train), "n_test": len(test)}
    started = time.perf_counter()
    if route == "real":
        row["kept"] = utility(train, train, test, parsed, settings)
    elif route in ("mst", "aim"):
        row.update(marginal_row(train, test, parsed, route, epsilon, settings))
    elif route in ("harmonic", "harmonic-marginals"):
        source = NeighbourSource.MARGINALS if route == "harmonic-marginals" else NeighbourSource.AUTO
        row.update(harmonic_row(name, parsed, train, test, epsilon, settings, source=source, work=work, log=log))
    else:
        raise ValueError(f"unknown route {route!r}; choose from {ROUTES}")
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def marginal_row(train: list[Row], test: list[Row], parsed: ParsedTable, route: str, epsilon: float,
                 settings: TabularSettings) -> dict[str, Any]:
    ledger = PrivacyLedger(make_engine("sqlite://"))
    ledger.set_budget("bench", epsilon=epsilon, delta=default_delta(len(train)))
    run = run_marginals(dataset_id="bench", rows=train, schema=parsed.schema, ledger=ledger, epsilon=epsilon,
                        delta=default_delta(len(train)), settings=_marginal_settings(route, settings),
                        rng=np.random.default_rng(settings.seed))
    return {"release": run.release.as_dict(), "ledger": ledger.status("bench").as_dict(),
            "label_rows": run.release.label_rows(), "kept": utility(train, run.rows, test, parsed, settings),
            "sample_rows": [row_json(r, parsed.schema.names) for r in run.rows[:3]]}


def _marginal_settings(algorithm: str, settings: TabularSettings) -> MarginalSettings:
    return MarginalSettings(algorithm=MarginalAlgorithm(algorithm), aim_rounds=settings.aim_rounds,
                            aim_max_size=settings.aim_max_size, oneway_split=settings.oneway_split,
                            label_weight=settings.label_weight)


def harmonic_row(name: str, parsed: ParsedTable, train: list[Row], test: list[Row], epsilon: float,
                 settings: TabularSettings, *, source: NeighbourSource, work: Path,
                 log: Callable[[str], None]) -> dict[str, Any]:
    """The client's DP table training and the server's generation and grading on a subsample of the
    training rows (``harmonic_train``, of which ``n_holdout`` are held out for DLT). ``reference_copies``:
    the share of written rows equal to a reference-pool row, one the model was shown in training (with a
    marginal pool, a high share would make the route AIM or MST passed through)."""
    from server_node.inference import LocalTextModel
    from server_node.pipeline.grade import TABLE_CRITERIA, grade_samples
    from server_node.pipeline.table_generate import generate_table_rows
    from shared.adapters import decode_adapter
    from shared.adapters.peft_io import load_lora
    from shared.lora import LoraSpec
    from shared.models.loading import load_causal_lm
    from shared.models.resolve import resolve_model
    from shared.protocol import SamplingParams, TableJobSettings

    s = settings
    _, task = TABLES[name]
    private = train[: s.harmonic_train[name] + s.n_holdout]
    store = DatasetStore(work / f"{name}-{epsilon}")
    dataset = store.add_table(private, parsed.schema, name=name, task=task,
                              holdout_fraction=s.n_holdout / len(private), seed=s.seed)
    ledger = PrivacyLedger(make_engine("sqlite://"))
    ledger.set_budget(dataset.dataset_id, epsilon=epsilon, delta=1e-5)
    timings: dict[str, float] = {}
    loaded = load_causal_lm("smollm2-135m-instruct", prepare=True)
    config = TrainConfig(epsilon=epsilon, delta=1e-5 if epsilon < INF else None, epochs=s.epochs,
                         max_steps=s.harmonic_steps.get(name),
                         batch_size=s.batch_size, learning_rate=s.learning_rate, max_length=s.max_length[name], seed=s.seed,
                         lora=LoraSpec(r=s.lora_rank, alpha=2.0 * s.lora_rank, target_modules=s.lora_targets))
    start = time.perf_counter()
    run = run_table_training(dataset=dataset, ledger=ledger, config=config, model=loaded.model, tokenizer=loaded.tokenizer,
                             settings=TableSettings(neighbours=s.neighbours, seed=s.seed, neighbour_source=source,
                                                    example_rows=s.example_rows, reference_share=s.reference_share,
                                                    marginals=_marginal_settings(s.harmonic_reference, s)),
                             base=loaded.signature(), progress=False)
    timings["train"] = round(time.perf_counter() - start, 1)
    log(f"  trained in {timings['train']} s: {run.as_dict()}; certificate eps {run.result.certificate.epsilon:.3f}")
    del loaded
    gc.collect()
    adapter = decode_adapter(run.adapter)
    base = load_causal_lm("smollm2-135m-instruct")
    model = load_lora(base.model, adapter).merge_and_unload()
    model.eval()
    start = time.perf_counter()
    generated = generate_table_rows(
        model=model, tokenizer=base.tokenizer, template=adapter.metadata.template, n_rows=s.n_rows,
        sampling=SamplingParams(temperature=s.temperature, top_p=s.top_p, top_k=0, max_new_tokens=s.max_new_tokens[name]),
        settings=TableJobSettings(neighbours=s.neighbours, bootstrap=s.harmonic_bootstrap,
                                  max_attempts_factor=s.max_attempts_factor,
                                  label_shares=label_shares(run.as_dict()) if s.label_shares else None,
                                  example_rows=run.example_rows),
        batch_size=s.generation_batch, seed=s.seed)
    timings["generate"] = round(time.perf_counter() - start, 1)
    log(f"  generated in {timings['generate']} s: {generated.counts()} {dict(generated.reasons)}")
    start = time.perf_counter()
    dlt = dlt_report(model, base.tokenizer, adapter.metadata.template, dataset.train_rows, dataset.holdout_rows,
                     max_length=s.max_length[name], seed=s.seed)
    timings["dlt"] = round(time.perf_counter() - start, 1)
    del model, base
    gc.collect()
    rows = generated.rows
    kept = rows
    grades: list[float] = []
    if s.grade and rows:
        expert = load_causal_lm(resolve_model("gemma3-270m"))
        start = time.perf_counter()
        graded = grade_samples(lm=LocalTextModel(expert.model, expert.tokenizer),
                               samples=[{"text": row_json(r, parsed.schema.names)} for r in rows], domain=task,
                               chat=expert.resolved.chat, criteria=TABLE_CRITERIA)
        timings["grade"] = round(time.perf_counter() - start, 1)
        grades = [g.score for g in graded]
        kept = [r for r, g in zip(rows, graded, strict=True) if g.score >= s.min_grade] or rows
        del expert
    cert = run.result.certificate
    shown = {row_json(r, parsed.schema.names) for r in (run.reference.rows if run.reference else [])}
    copies = {what: sum(row_json(r, parsed.schema.names) in shown for r in rows_) / max(1, len(rows_))
              for what, rows_ in (("generated", rows), ("kept", kept))}
    return {"reference_copies": copies,
            "certificate": {"epsilon": cert.epsilon if cert.is_private else "inf", "delta": cert.delta,
                            "noise_multiplier": cert.noise_multiplier, "steps": cert.steps},
            "ledger": ledger.status(dataset.dataset_id).as_dict(), "training": run.as_dict(),
            "generation": {**generated.counts(), "bootstrap": generated.bootstrap, "reasons": dict(generated.reasons)},
            "grades": {"mean": sum(grades) / len(grades) if grades else None, "kept": len(kept)},
            "dlt": dlt, "generated": utility(dataset.train_rows, rows, test, parsed, s),
            "kept": utility(dataset.train_rows, kept, test, parsed, s), "timings": timings,
            "sample_rows": [row_json(r, parsed.schema.names) for r in kept[:5]]}


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per (dataset, route, epsilon), repeats averaged: gradient boosting's AUC (mean over repeats,
    their standard deviation, the test rows' bootstrap error) and F1, the other classifiers' AUC, the share
    of train-on-real's AUC, DCR and copies. ``train``: the private rows the route saw (HARMONIC's subsample).
    Lines by dataset, then route (``ROUTES`` order), then epsilon."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    datasets = list(dict.fromkeys(r["dataset"] for r in result["rows"]))
    order = sorted(result["rows"], key=lambda r: (datasets.index(r["dataset"]), ROUTES.index(r["route"]),
                                                  INF if r["epsilon"] == "inf" else float(r["epsilon"])))
    for row in order:
        groups.setdefault((row["dataset"], row["route"], str(row["epsilon"])), []).append(row)
    ceiling = {key[0]: _mean(rows, "gradient_boosting", "auc") for key, rows in groups.items() if key[1] == "real"}
    out = []
    for (dataset, route, _), rows in groups.items():
        auc = _mean(rows, "gradient_boosting", "auc")
        aucs = [_tstr(r, "gradient_boosting", "auc") for r in rows]
        dcr = [r["kept"]["dcr"] for r in rows]
        out.append({"dataset": dataset, "route": route, "eps": "-" if route == "real" else rows[0]["epsilon"],
                    "runs": len(rows), "train": _private_rows(rows[0]), "rows": round(_avg([r["kept"]["rows"] for r in rows])),
                    "gb auc": auc, "sd runs": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else None,
                    "se test": _avg([r["kept"]["tstr"]["synthetic"]["gradient_boosting"]["se"]["auc"] for r in rows]),
                    "gb f1": _mean(rows, "gradient_boosting", "f1"), "gb acc": _mean(rows, "gradient_boosting", "accuracy"),
                    "lr auc": _mean(rows, "logistic_regression", "auc"), "rf auc": _mean(rows, "random_forest", "auc"),
                    "x real": round(auc / ceiling[dataset], 3) if auc and ceiling.get(dataset) else None,
                    "dcr p05 syn/test": f"{_avg([d.get('synthetic', {}).get('p05') for d in dcr]):.2f}/"
                                        f"{_avg([d.get('holdout', {}).get('p05') for d in dcr]):.2f}",
                    "copies": _avg([d.get("copies", {}).get("share") for d in dcr]),
                    "ref copies": _avg([r.get("reference_copies", {}).get("kept") for r in rows]),
                    "tv": _avg([r["kept"]["fidelity"].get("mean_tv") for r in rows]),
                    "s": _avg([r.get("seconds") for r in rows])})
    return out


def _private_rows(row: dict[str, Any]) -> int | None:
    if row["route"].startswith("harmonic") and row.get("training"):
        return int(row["training"].get("examples", row.get("n_train") or 0))
    return row.get("n_train")


def _tstr(row: dict[str, Any], classifier: str, metric: str) -> float | None:
    return row["kept"]["tstr"].get("synthetic", {}).get(classifier, {}).get(metric)


def _mean(rows: list[dict[str, Any]], classifier: str, metric: str) -> float | None:
    return _avg([_tstr(r, classifier, metric) for r in rows])


def _avg(values: Sequence[float | None]) -> float:
    numbers = [float(v) for v in values if v is not None]
    return float(np.mean(numbers)) if numbers else float("nan")


def main(argv: Sequence[str] | None = None) -> None:
    parser = settings_parser(__doc__, benchmark="tabular",
                             quick="a small run (German, eps 8: real, MST, HARMONIC on 40 rows)")
    args = parser.parse_args(argv)
    name = args.name or ("tabular_quick" if args.quick else "tabular")
    if args.render_only:
        report(json.loads((RESULTS / f"{name}.json").read_text()), name)
        return
    base = TabularSettings.quick() if args.quick else TabularSettings()
    settings = with_overrides(parser, base, args.settings)
    report(run_tabular(settings, name=name, wheels_dir=wheels_dir_of(args), save_each=True), name)


WHICH_ROWS = ("datasets", "epsilons", "routes", "repeats")
MARGINAL_ONLY = ("aim_rounds", "aim_max_size", "label_weight", "oneway_split")
HARMONIC_ONLY = tuple(k for k in TabularSettings.model_fields if k not in (*WHICH_ROWS, *MARGINAL_ONLY)
                      and k not in ("n_train", "n_test", "bootstrap", "seed"))


# knobs whose rows measured before the knob existed behaved otherwise than its default
BEFORE_KNOB = {"example_rows": 0}


def _how(settings: dict[str, Any], route: str) -> dict[str, Any]:
    """The settings that decide how a row of ``route`` is measured (not which rows there are, nor another
    route's knobs); settings saved before a knob existed read as its default, or as ``BEFORE_KNOB`` says."""
    full = TabularSettings.model_validate({**BEFORE_KNOB, **settings}).model_dump(mode="json")
    skip = set(WHICH_ROWS)
    if route in ("real", "mst", "aim"):
        skip |= set(HARMONIC_ONLY)
    if route in ("real", "harmonic"):
        skip |= set(MARGINAL_ONLY)
    return {k: v for k, v in full.items() if k not in skip}


def reusable_rows(saved: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a saved results file measured the way ``current`` measures their route. A row's own
    settings are read through ``_how`` as well, so a knob added after it was saved reads as the default it
    ran with (rows saved before rows named their own settings were all measured the file's way)."""
    kept = []
    for r in saved["rows"]:
        r.setdefault("settings", _how(saved.get("settings", {}), r["route"]))
        if _how(r["settings"], r["route"]) == _how(current, r["route"]):
            kept.append(r)
    return kept


def _key(dataset: str, route: str, epsilon: float | str, repeat: int) -> tuple[str, str, str, int]:
    return dataset, route, "-" if route == "real" else str(float(epsilon)), repeat


def run_tabular(settings: TabularSettings, *, name: str, wheels_dir: Path, save_each: bool = False,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every (dataset, route, epsilon, repeat) row; with ``save_each`` the results are saved after each row and
    rows already saved under ``name`` are kept, not rerun, when they were measured the same way (each row names
    the settings that decide its route, ``_how``): a stopped run resumes, and a rerun with other repeats,
    routes, epsilons, datasets or another route's knobs adds to it (``settings`` in the JSON is the last call's).
    Rows measured another way are dropped from the file."""
    previous = RESULTS / f"{name}.json"
    rows: list[dict[str, Any]] = []
    current = settings.model_dump(mode="json")
    if save_each and previous.exists():
        old = json.loads(previous.read_text())
        rows = reusable_rows(old, current)
        if len(rows) < len(old["rows"]):
            log(f"dropping {len(old['rows']) - len(rows)} rows of {previous} measured with other settings "
                "(give another --name to keep them)")
    result: dict[str, Any] = {"benchmark": name, "machine": machine(), "settings": settings.model_dump(mode="json"),
                              "published": PUBLISHED, "rows": rows}

    done = {_key(r["dataset"], r["route"], r["epsilon"], r.get("repeat", 0)) for r in rows}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in settings.datasets:
            for route in settings.routes:
                deterministic = route == "real"
                for epsilon in (INF,) if deterministic else settings.epsilons:
                    for repeat in range(1 if deterministic else settings.repeats.get(dataset, 1)):
                        if _key(dataset, route, epsilon, repeat) in done:
                            continue
                        log(f"{dataset} {route} eps={epsilon} run {repeat + 1}")
                        row = run_row(dataset, route, epsilon, settings, wheels_dir=wheels_dir, work=Path(tmp), log=log,
                                      repeat=repeat)
                        rows.append({**row, "settings": _how(current, route)})
                        line = table_rows({"rows": [row]})[0]
                        log(f"  AUC {line['gb auc']:.3f} (test se {line['se test']:.3f}), {line['rows']} rows, "
                            f"{line['s']:.0f} s")
                        result["seconds"] = round(sum(r.get("seconds", 0) for r in rows), 1)
                        if save_each:
                            save(name, result)
    result["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    return result


def report(result: dict[str, Any], name: str) -> None:
    """Print the table; save the JSON and the HTML report."""
    from bench.html_report import render_tabular_html

    rows = table_rows(result)
    columns = list(rows[0]) if rows else []
    print(table(rows, columns))
    print(f"saved {save(name, result)} ({result.get('seconds')} s)")
    path = RESULTS / f"{name}.html"
    path.write_text(render_tabular_html(result, columns, rows))
    print(f"report {path}")


if __name__ == "__main__":
    main()
