"""The client CLI as a user runs it: real processes, real files, readable errors, --json output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).parent / "client-node")


def _run(args: list[str], tmp_path: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client")}
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, check=check)


@pytest.fixture
def csv_file(tmp_path) -> Path:
    path = tmp_path / "faq.csv"
    rows = "\n".join(f"Question {i}?,Answer {i}." for i in range(20))
    path.write_text(f"question,answer\n{rows}\nQuestion 0?,Answer 0.\n", encoding="utf-8")
    return path


def test_datasets_add_list_show(tmp_path, csv_file) -> None:
    out = _run(["datasets", "add", str(csv_file), "--name", "faq", "--task", "clinic questions", "--map", "instruction=question",
                "--map", "response=answer", "--epsilon-budget", "6", "--json"], tmp_path)
    info = json.loads(out.stdout)
    assert info["records"] == 20 and info["duplicates_dropped"] == 1 and info["budget"]["epsilon_budget"] == 6
    assert info["budget"]["delta_budget"] == pytest.approx(1 / 20)
    listing = json.loads(_run(["datasets", "list", "--json"], tmp_path).stdout)
    assert [d["dataset_id"] for d in listing] == [info["dataset_id"]]
    shown = json.loads(_run(["datasets", "show", info["dataset_id"], "--json"], tmp_path).stdout)
    assert shown["runs"] == [] and shown["budget"]["epsilon_spent"] == 0
    human = _run(["datasets", "show", info["dataset_id"]], tmp_path).stdout
    assert "budget: epsilon 6.0" in human


def test_records_are_added_with_declared_conditions(tmp_path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("review,sentiment\n" + "\n".join(f"Review {i},{('negative', 'positive')[i % 2]}" for i in range(10)))
    args = ["datasets", "add", str(path), "--name", "r", "--task", "clothing reviews", "--map", "text=review",
            "--map", "label=sentiment", "--condition", "label=negative,positive"]
    human = _run(args, tmp_path).stdout
    assert "condition label in ['negative', 'positive']" in human
    out = _run([*args[:-1], "label=negative,neutral"], tmp_path, check=False)
    assert out.returncode == 2 and "outside its declared domain" in out.stderr and "line 3" in out.stderr


def test_errors_are_readable_with_exit_code_2(tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a"}\n', encoding="utf-8")
    out = _run(["datasets", "add", str(bad), "--name", "x", "--task", "t"], tmp_path, check=False)
    assert out.returncode == 2 and "error [dataset_invalid]" in out.stderr and "line 1" in out.stderr
    out = _run(["datasets", "show", "0000000000000000"], tmp_path, check=False)
    assert out.returncode == 2 and "dataset_not_found" in out.stderr
    out = _run(["datasets", "add", str(bad), "--name", "x", "--task", "t", "--json"], tmp_path, check=False)
    assert json.loads(out.stderr)["error"]["code"] == "dataset_invalid"


def test_tables_are_added_with_their_schema(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "staff.csv"
    path.write_text("age,role,pay\n" + "".join(f"{20 + i},{'ab'[i % 2]},{'hl'[i % 3 == 0]}\n" for i in range(12)))
    domain = tmp_path / "domain.json"
    domain.write_text(json.dumps({"categories": {"role": ["a", "b"], "pay": ["h", "l"]}, "bounds": {"age": [18, 70]}}))
    out = _run(["datasets", "add", str(path), "--table", "--label", "pay", "--kind", "age=float", "--domain", str(domain),
                "--name", "s", "--task", "staff"], tmp_path)
    assert "12 rows" in out.stdout and "age (float)" in out.stdout and "label pay" in out.stdout
    parquet = tmp_path / "staff.parquet"
    pq.write_table(pa.table({"age": [1, 2, 3], "pay": ["h", "l", "h"]}), parquet)
    info = json.loads(_run(["datasets", "add", str(parquet), "--label", "pay", "--bounds", "age=0:9", "--cuts", "age=3,6",
                            "--category", "pay=h,l", "--name", "p", "--task", "t", "--json"], tmp_path).stdout)
    assert info["kind"] == "table" and info["schema"]["columns"][0]["cuts"] == [3.0, 6.0]
    info = json.loads(_run(["datasets", "add", str(path), "--table", "--label", "pay", "--domain", str(domain),
                            "--category", "role=a,b,c", "--name", "b", "--task", "staff", "--json"], tmp_path).stdout)
    columns = {c["name"]: c for c in info["schema"]["columns"]}
    assert (columns["age"]["lower"], columns["age"]["upper"]) == (18.0, 70.0) and columns["role"]["categories"] == ["a", "b", "c"]
    out = _run(["datasets", "add", str(path), "--table", "--label", "pay", "--name", "s", "--task", "t"], tmp_path,
               check=False)
    assert out.returncode == 2 and "table_schema_invalid" in out.stderr and "declare every column" in out.stderr
    out = _run(["datasets", "add", str(path), "--table", "--bounds", "age=x:1", "--name", "s", "--task", "t"], tmp_path,
               check=False)
    assert out.returncode == 2 and "LO:HI" in out.stderr
    out = _run(["datasets", "add", str(path), "--table", "--kind", "age", "--name", "s", "--task", "t"], tmp_path,
               check=False)
    assert out.returncode == 2 and "table_schema_invalid" in out.stderr and "COLUMN=KIND" in out.stderr


def test_hardware_says_what_this_machine_computes_in_and_why(tmp_path) -> None:
    import torch

    from shared.compute import cpu_info

    shown = json.loads(_run(["hardware", "--json"], tmp_path).stdout)
    assert shown["device"] == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert shown["cpu_class"] == cpu_info().cpu_class and shown["reason"]
    forced = json.loads(_run(["hardware", "--device", "cpu", "--precision", "fp32", "--json"], tmp_path).stdout)
    assert (forced["precision"], forced["requested"]) == ("fp32", {"device": "cpu", "precision": "fp32"})
    if not torch.cuda.is_available():
        refused = _run(["hardware", "--device", "cuda"], tmp_path, check=False)
        assert refused.returncode == 2 and "device_unavailable" in refused.stderr


def test_a_marginals_run_needs_no_server_and_its_rows_learn_the_label(tmp_path) -> None:
    """`client-node run --generator marginals` on a table: released, synthesized and evaluated on the client,
    with no server URL anywhere; the synthetic rows train a classifier that beats chance on held-out rows."""
    import random

    rng = random.Random(0)
    path = tmp_path / "staff.csv"
    lines = ["age,role,pay"]
    for _ in range(2000):
        role = rng.choice(["nurse", "clerk", "driver"])
        pay = "high" if (role == "nurse") ^ (rng.random() < 0.15) else "low"
        lines.append(f"{rng.randint(20, 40) if pay == 'low' else rng.randint(41, 65)},{role},{pay}")
    path.write_text("\n".join(lines) + "\n")
    domain = tmp_path / "domain.json"
    domain.write_text(json.dumps({"categories": {"role": ["nurse", "clerk", "driver"], "pay": ["low", "high"]},
                                  "bounds": {"age": [18, 70]}, "cuts": {"age": [30, 40, 50, 60]}}))
    env_free = {k: v for k, v in os.environ.items() if k != "PRIVSYNTH_CLIENT_SERVER_URL"}
    out = subprocess.run([EXE, "run", "--dataset", str(path), "--task", "hospital staff", "--table", "--label", "pay",
                          "--domain", str(domain), "--generator", "marginals", "--epsilon", "2", "--budget", "4",
                          "--json"], capture_output=True, text=True,
                         env={**env_free, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client")}, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    run = json.loads(out.stdout)
    assert run["state"] == "succeeded" and run["server_url"] == "" and 0 < run["epsilon_spent"] <= 2.0
    report = run["report"]
    assert report["privacy"]["mechanism"] == "marginals" and report["training"]["release"]["algorithm"] == "mst"
    assert abs(report["samples"]["rows"] - 1800) < 100  # the noisy count of the 1,800 training rows
    synthetic = report["utility"]["tstr"]["synthetic"]["gradient_boosting"]
    assert synthetic["mcc"] > 0.4, report["utility"]["tstr"]
    shown = json.loads(_run(["datasets", "show", run["dataset_id"], "--json"], tmp_path).stdout)
    assert [s["mechanism"] for s in shown["runs"]] == ["marginals"] and shown["budget"]["epsilon_spent"] <= 2.0


def test_a_finished_run_prints_the_ledger_and_its_counts_per_condition(tmp_path) -> None:
    from client_node.cli import run_lines
    from client_node.ledger import PrivacyLedger, make_engine

    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget("d1", epsilon=10.0, delta=1e-3)
    ledger.open_run("d1", run_id="r1", planned_epsilon=4.0, delta=1e-4, planned_history=[(10.0, 1.0, 1), (1.0, 0.1, 50)],
                    accountant="rdp", mechanism="dp-sgd")
    ledger.finish("r1", history=[(10.0, 1.0, 1), (1.0, 0.1, 50)], epsilon=3.9)
    counts = [{"conditions": {"label": "negative"}, "count": 12.4}, {"conditions": {"label": "positive"}, "count": 27.9}]
    run = {"dataset_id": "d1", "epsilon_spent": 3.9, "report": {
        "training": {"condition_counts": {"noise_multiplier": 10.0, "counts": counts}},
        "samples": {"per_condition": {"label=negative": 4, "label=positive": 6}}}}
    lines = run_lines(run, ledger.status("d1"))
    assert lines[0].startswith("  ledger: this run eps 3.9; dataset d1 spent eps") and "in 1 run(s)" in lines[0]
    assert "sigma 10.0" in lines[1]
    assert lines[2:] == ["    label=negative: count 12.4, samples received 4",
                         "    label=positive: count 27.9, samples received 6"]
    run["report"]["training"] |= {"records": 40, "max_length": 64, "truncated_examples": 3}  # records were cut
    assert "3 of 40 records were cut at --max-length 64" in run_lines(run, ledger.status("d1"))[1]


def test_table_flags_set_the_pool_and_the_rows_the_server_shows() -> None:
    from client_node.cli import _table_settings, build_parser

    args = build_parser().parse_args(["run", "--dataset", "d", "--neighbour-source", "marginals", "--algorithm", "aim",
                                      "--example-rows", "0", "--neighbours", "3"])
    settings = _table_settings(args)
    assert settings.neighbour_source.value == "marginals" and settings.marginals.algorithm.value == "aim"
    assert settings.example_rows == 0 and settings.neighbours == 3
    assert _table_settings(build_parser().parse_args(["run", "--dataset", "d"])).example_rows == 1000


def test_max_steps_reaches_the_run_request_and_a_zero_budget_is_refused() -> None:
    import pydantic

    from client_node.cli import build_parser
    from client_node.runs.schemas import RunCreateRequest

    args = build_parser().parse_args(["run", "--dataset", "d", "--max-steps", "12"])
    assert args.max_steps == 12 and build_parser().parse_args(["run", "--dataset", "d"]).max_steps is None
    assert RunCreateRequest(dataset_id="d", max_steps=args.max_steps).max_steps == 12
    with pytest.raises(pydantic.ValidationError, match="max_steps"):
        RunCreateRequest(dataset_id="d", max_steps=0)


def test_train_warns_when_max_length_cut_records_and_is_silent_otherwise() -> None:
    from client_node.cli import truncation_lines

    assert truncation_lines(0, 100, 256) == []
    (line,) = truncation_lines(79, 100, 96)
    assert "79 of 100 records were cut at --max-length 96" in line and "raise --max-length" in line
