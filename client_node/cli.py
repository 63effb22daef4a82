"""``client-node``: the data owner's command line."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from client_node import __version__
from shared.cli import (
    add_compute_flags,
    add_hardware_command,
    add_models_commands,
    apply_compute_flags,
    emit,
    emit_json,
    run_cli,
)
from shared.lora import DEFAULT_TARGET_MODULES

if TYPE_CHECKING:
    from client_node.tables.settings import TableSettings

ENV_PREFIX = "PRIVSYNTH_CLIENT_"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="client-node",
        description="Private side of privsynth: DP-LoRA training on private records, privacy budget ledger, "
        "runs against a server node, local evaluation. Settings: PRIVSYNTH_CLIENT_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    add_models_commands(sub)
    add_hardware_command(sub, env_prefix=ENV_PREFIX)
    _add_dataset_commands(sub)
    _add_train_command(sub)
    _add_run_commands(sub)
    demo = sub.add_parser("demo", help="both services on loopback, the whole pipeline on bundled clinic records")
    demo.add_argument("--workdir", default=".demo", help="fresh data directories, logs and the report go here")
    demo.add_argument("--records", type=int, default=160)
    demo.add_argument("--epochs", type=int, default=2)
    demo.add_argument("--n-samples", type=int, default=24)
    demo.add_argument("--max-new-tokens", type=int, default=96)
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(handler=_demo)
    return parser


def _add_run_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = sub.add_parser("run", help="the whole pipeline: DP-train (or DP-generate), send to a server, fetch, evaluate")
    run.add_argument("--dataset", required=True, help="a dataset id, or a .jsonl/.csv file to add first")
    run.add_argument("--task", help="data-free description of the records (needed when --dataset is a file)")
    run.add_argument("--budget", type=float, help="epsilon budget for a new dataset (default: --epsilon)")
    run.add_argument("--server", help="server node URL (default PRIVSYNTH_CLIENT_SERVER_URL); token from "
                     "PRIVSYNTH_CLIENT_SERVER_TOKEN")
    run.add_argument("--epsilon", type=float, default=8.0)
    run.add_argument("--generator", choices=["dp-lora", "votes", "marginals"], default="dp-lora",
                     help="dp-lora: DP-SGD LoRA, the server samples; votes: training-free DP generation on this "
                          "client by noisy next-token votes, the DP samples go to the server; marginals (tables): "
                          "AIM or MST over the declared domains, on this client alone (no server)")
    run.add_argument("--algorithm", choices=["mst", "aim"], default="mst", help="marginals: the algorithm")
    run.add_argument("--rows", type=int, default=None, help="marginals: rows to synthesize (default: the noisy count)")
    run.add_argument("--vote-noise", choices=["gaussian", "laplace"], default="gaussian")
    run.add_argument("--vote-groups", type=int, default=64, help="disjoint groups of records that vote")
    run.add_argument("--labels", nargs="+", default=None, help="the task's public labels (split records and samples)")
    _add_condition_argument(run)
    _add_table_arguments(run)
    run.add_argument("--neighbours", type=int, default=5, help="table: example rows shown with each row (k)")
    run.add_argument("--neighbour-source", choices=["auto", "reference", "marginals"], default="auto",
                     help="table under DP: the reference pool's release, noisy histograms or AIM/MST marginals "
                          "(--algorithm; auto: histograms)")
    run.add_argument("--example-rows", type=int, default=1000,
                     help="table under DP: reference rows the server's prompts show (0: its own bootstrap rows)")
    run.add_argument("--max-length", type=int, default=None, help="tokens per training example, prompt included; longer ones are cut, and counted (default 256, tables 1024)")
    run.add_argument("--epochs", type=int, default=2)
    run.add_argument("--max-steps", type=int, default=None,
                     help="at most this many DP-SGD steps (a compute budget; every record stays in the sampling)")
    run.add_argument("--batch-size", type=int, default=16)
    run.add_argument("--n-samples", type=int, default=100)
    run.add_argument("--max-new-tokens", type=int, default=160)
    run.add_argument("--guidance", type=float, default=0.0,
                     help="condition guidance on the server (declared conditions only): steer each sample away from "
                          "another value of its label by this factor; no privacy cost, twice the rows per decoding step")
    run.add_argument("--min-grade", type=float, default=0.5)
    run.add_argument("--no-grade", action="store_true")
    run.add_argument("--no-rewrite", action="store_true")
    run.add_argument("--no-knowledge-adapter", action="store_true")
    add_compute_flags(run, env_prefix=ENV_PREFIX)
    run.add_argument("--json", action="store_true")
    run.set_defaults(handler=_run)
    runs = sub.add_parser("runs", help="runs in this client's database (as the service sees them)")
    rsub = runs.add_subparsers(dest="runs_command", required=True)
    listing = rsub.add_parser("list", help="all runs, newest first")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_runs_list)
    for name, handler, text in (("show", _runs_show, "one run: state, stage, progress, report"),
                                ("cancel", _runs_cancel, "cancel a queued or running run")):
        command = rsub.add_parser(name, help=text)
        command.add_argument("run_id")
        command.add_argument("--json", action="store_true")
        command.set_defaults(handler=handler)
    serve = sub.add_parser("serve", help="run the client service (REST API; needs PRIVSYNTH_CLIENT_API_TOKEN)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback by default: the client sits beside private data")
    serve.add_argument("--port", type=int, default=8600)
    add_compute_flags(serve, env_prefix=ENV_PREFIX)
    serve.set_defaults(handler=_serve)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser(), argv)


def _add_table_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", action="store_true",
                        help="the file is a table (CSV with a header, or Parquet: implied by .parquet)")
    parser.add_argument("--label", help="table: the label column (categorical; declare its categories)")
    parser.add_argument("--kind", action="append", default=[], metavar="COLUMN=KIND",
                        help="table: override a column's inferred kind (categorical, integer, float); repeatable")
    parser.add_argument("--columns", help="table: keep only these comma-separated columns")
    parser.add_argument("--category", action="append", default=[], metavar="COLUMN=A,B,C",
                        help="table: declare a column's categories public; repeatable")
    parser.add_argument("--bounds", action="append", default=[], metavar="COLUMN=LO:HI",
                        help="table: declare a numeric column's bounds public; repeatable")
    parser.add_argument("--cuts", action="append", default=[], metavar="COLUMN=C1,C2",
                        help="table: a numeric column's public cut points (default: equal bins); repeatable")
    parser.add_argument("--domain", type=Path, metavar="FILE", help=(
        'table: JSON {"categories": {column: [...]}, "bounds": {column: [lo, hi]}, "cuts": {column: [...]}}; '
        "the flags above add to it. Every column needs a declared domain"))


def _add_condition_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--condition", action="append", default=[], metavar="NAME=V1,V2",
                        help="records: declare a condition's public values (e.g. label=negative,positive); every "
                             "record then carries one (JSONL 'label' or 'conditions', CSV a column); repeatable")


def _table_settings(args: argparse.Namespace) -> TableSettings:
    """A table run's HARMONIC settings; a marginal pool uses the algorithm the marginals generator would."""
    from client_node.tables.marginals import MarginalAlgorithm, MarginalSettings
    from client_node.tables.settings import NeighbourSource, TableSettings

    source = NeighbourSource(args.neighbour_source)
    marginals = MarginalSettings(algorithm=MarginalAlgorithm(args.algorithm))
    return TableSettings(neighbours=args.neighbours, neighbour_source=source, example_rows=args.example_rows,
                         marginals=marginals)


def _conditions(args: argparse.Namespace) -> dict[str, list[str]] | None:
    from shared.errors import DatasetValidationError

    pairs = _pairs(args.condition, "--condition takes NAME=V1,V2", DatasetValidationError)
    return {name: [v.strip() for v in values.split(",")] for name, values in pairs.items()} or None


def _pairs(items: Sequence[str], usage: str, error: type[Exception]) -> dict[str, str]:
    """``KEY=VALUE`` arguments as a dict; ``error(usage + ...)`` for one without ``=``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise error(f"{usage}, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _is_table(args: argparse.Namespace, path: Path) -> bool:
    return bool(args.table) or ".parquet" in [s.lower() for s in path.suffixes]


def _add_table_file(ctx: Any, args: argparse.Namespace, path: Path, *, name: str, task: str, epsilon_budget: float,
                    delta_budget: float | None = None, holdout: float = 0.1) -> dict[str, Any]:
    from client_node.operations import add_table
    from shared.errors import TableSchemaError

    kinds = _pairs(args.kind, "--kind takes COLUMN=KIND", TableSchemaError)
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    domain = _domain_file(args.domain) if args.domain else {}
    categories = {**domain.get("categories", {}), **{
        k: [c.strip() for c in v.split(",")]
        for k, v in _pairs(args.category, "--category takes COLUMN=A,B,C", TableSchemaError).items()}}
    bounds, cuts = dict(domain.get("bounds", {})), dict(domain.get("cuts", {}))
    for column, text in _pairs(args.bounds, "--bounds takes COLUMN=LO:HI", TableSchemaError).items():
        low, _, high = text.partition(":")
        try:
            bounds[column] = [float(low), float(high)]
        except ValueError:
            raise TableSchemaError(f"--bounds takes COLUMN=LO:HI with numbers, got {column}={text}") from None
    for column, text in _pairs(args.cuts, "--cuts takes COLUMN=C1,C2", TableSchemaError).items():
        try:
            cuts[column] = [float(c) for c in text.split(",")]
        except ValueError:
            raise TableSchemaError(f"--cuts takes COLUMN=C1,C2 with numbers, got {column}={text}") from None
    return add_table(ctx, path, name=name, task=task, epsilon_budget=epsilon_budget, delta_budget=delta_budget,
                     label=args.label, kinds=kinds, columns=columns, holdout_fraction=holdout,
                     public_categories=categories, public_bounds=bounds, public_cuts=cuts)


def _domain_file(path: Path) -> dict[str, dict[str, list[Any]]]:
    """A ``--domain`` file: categories, bounds and cuts by column (each optional)."""
    import json

    from shared.errors import TableSchemaError

    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TableSchemaError(f"--domain {path}: not a readable JSON file ({exc})") from None
    parts = ("categories", "bounds", "cuts")
    if not isinstance(document, dict) or set(document) - set(parts) or \
            not all(isinstance(document.get(k, {}), dict) for k in parts):
        raise TableSchemaError(f"--domain {path}: a JSON object with (some of) {list(parts)}, each column -> list")
    return document


def _add_dataset_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    datasets = sub.add_parser("datasets", help="add, list and inspect private datasets and their budgets")
    dsub = datasets.add_subparsers(dest="datasets_command", required=True)
    add = dsub.add_parser("add", help="validate and store a JSONL/CSV dataset with a privacy budget")
    add.add_argument("file", type=Path)
    add.add_argument("--name", required=True)
    add.add_argument("--task", required=True, help="what the records are about; becomes the data-free prompt")
    add.add_argument("--epsilon-budget", type=float, default=10.0, help="total epsilon this dataset may spend")
    add.add_argument("--delta-budget", type=float, default=None, help="total delta (default 1/N)")
    add.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="CSV: take FIELD (instruction, input, response, text) from COLUMN; repeatable")
    add.add_argument("--holdout", type=float, default=0.1, help="fraction kept aside for evaluation")
    _add_condition_argument(add)
    _add_table_arguments(add)
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_datasets_add)
    listing = dsub.add_parser("list", help="stored datasets")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_datasets_list)
    show = dsub.add_parser("show", help="a dataset's split, budget and runs")
    show.add_argument("dataset_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_datasets_show)


def _add_train_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    train = sub.add_parser("train", help="DP-LoRA fine-tune the base model on a stored dataset")
    train.add_argument("--dataset", required=True, help="dataset id (see `datasets list`)")
    train.add_argument("--epsilon", type=float, default=8.0, help="target epsilon; 'inf' trains without DP")
    train.add_argument("--delta", type=float, default=None, help="default 1/(10 N)")
    train.add_argument("--epochs", type=int, default=2)
    train.add_argument("--max-steps", type=int, default=None, help="at most this many DP-SGD steps")
    train.add_argument("--batch-size", type=int, default=16, help="expected (Poisson) batch size")
    train.add_argument("--lr", type=float, default=3e-3)
    train.add_argument("--max-grad-norm", type=float, default=1.0)
    train.add_argument("--rank", type=int, default=8)
    train.add_argument("--alpha", type=float, default=16.0)
    train.add_argument("--targets", default=",".join(DEFAULT_TARGET_MODULES), help="comma-separated module names")
    train.add_argument("--max-length", type=int, default=256, help="tokens per example, prompt included; longer ones are cut")
    add_compute_flags(train, env_prefix=ENV_PREFIX)
    train.add_argument("--accountant", choices=["rdp", "prv"], default="rdp")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, help="adapter file (default: <data dir>/adapters/<sha256>.safetensors)")
    train.add_argument("--json", action="store_true")
    train.set_defaults(handler=_train)


def _context():  # type: ignore[no-untyped-def]
    from client_node.core.context import ClientContext

    return ClientContext()


def _datasets_add(args: argparse.Namespace) -> int:
    from client_node.operations import add_dataset
    from shared.errors import DatasetValidationError

    if _is_table(args, args.file):
        info = _add_table_file(_context(), args, args.file, name=args.name, task=args.task,
                               epsilon_budget=args.epsilon_budget, delta_budget=args.delta_budget, holdout=args.holdout)
        if args.json:
            emit_json(info)
        else:
            columns = ", ".join(f"{c['name']} ({c['kind']})" for c in info["schema"]["columns"])
            emit(f"table {info['dataset_id']}: {info['records']} rows ({info['train']} train, {info['holdout']} held out); "
                 f"columns {columns}; label {info['schema'].get('label')}; budget epsilon "
                 f"{info['budget']['epsilon_budget']}, delta {info['budget']['delta_budget']:.2e}")
        return 0
    column_map = _pairs(args.map, "--map takes FIELD=COLUMN", DatasetValidationError)
    info = add_dataset(_context(), args.file, name=args.name, task=args.task, epsilon_budget=args.epsilon_budget,
                       delta_budget=args.delta_budget, column_map=column_map, holdout_fraction=args.holdout,
                       conditions=_conditions(args))
    if args.json:
        emit_json(info)
    else:
        declared = "".join(f"; condition {k} in {v}" for k, v in info.get("conditions", {}).items())
        emit(f"dataset {info['dataset_id']}: {info['records']} records ({info['train']} train, {info['holdout']} held out), "
             f"{info['duplicates_dropped']} duplicates dropped{declared}; budget epsilon "
             f"{info['budget']['epsilon_budget']}, delta {info['budget']['delta_budget']:.2e}")
    return 0


def _datasets_list(args: argparse.Namespace) -> int:
    ctx = _context()
    rows = []
    for stored in ctx.datasets.list():
        budget = ctx.ledger.status(stored.dataset_id)
        rows.append({**stored.summary(), "epsilon_spent": budget.epsilon_spent, "epsilon_budget": budget.epsilon_budget})
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            emit(f"{r['dataset_id']}  {r['name']:<20} {r['records']:>6} records  epsilon {r['epsilon_spent']:.2f} of {r['epsilon_budget']}")
    return 0


def _datasets_show(args: argparse.Namespace) -> int:
    from client_node.operations import show_dataset

    info = show_dataset(_context(), args.dataset_id)
    if args.json:
        emit_json(info)
    else:
        b = info["budget"]
        emit(f"{info['dataset_id']} {info['name']!r}: {info['records']} records, task: {info['task']}")
        emit(f"  budget: epsilon {b['epsilon_budget']}, delta {b['delta_budget']:.2e}; spent epsilon {b['epsilon_spent']:.3f} "
             f"(basic {b['basic_composition']['epsilon']:.3f}, RDP {b['rdp_composition']['epsilon']:.3f})")
        for run in info["runs"]:
            emit(f"  run {run['run_id'][:12]} {run['status']:<9} {run['mechanism']:<8} epsilon {run['epsilon']:.3f} steps {run['steps']}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from client_node.operations import run_summary, train_adapter
    from shared.lora import LoraSpec
    from shared.training.config import TrainConfig

    ctx = _context()
    settings = ctx.settings
    config = TrainConfig(
        epsilon=math.inf if str(args.epsilon).lower() in {"inf", "infinity"} else args.epsilon, delta=args.delta,
        epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size, learning_rate=args.lr,
        max_grad_norm=args.max_grad_norm,
        lora=LoraSpec(r=args.rank, alpha=args.alpha, target_modules=tuple(t.strip() for t in args.targets.split(",") if t.strip())),
        max_length=args.max_length, accountant=args.accountant, seed=args.seed,
        device=args.device or settings.device, precision=args.precision or settings.precision,
    )
    run, path = train_adapter(ctx, args.dataset, config=config, out=args.out, progress=not args.json)
    summary = run_summary(run, path)
    if args.json:
        emit_json(summary)
    else:
        emit(f"adapter written to {path}")
        emit(f"  epsilon {summary['epsilon']} (delta {run.result.certificate.delta:.2e}), {summary['steps']} steps in "
             f"{summary['seconds']} s, final loss {summary['final_loss']}")
        emit(f"  dataset budget: spent {run.budget.epsilon_spent:.3f} of {run.budget.epsilon_budget}")
        emit(f"  computed on {summary['compute']['device']} in {summary['compute']['precision']} "
             f"({summary['compute']['reason']})")
        for line in truncation_lines(summary["truncated_examples"], run.result.plan.n_records, config.max_length):
            emit(line)
    return 0


def truncation_lines(truncated: int, records: int, max_length: int) -> list[str]:
    """A warning when ``max_length`` cut records: what was cut was never trained on (a secret at the end of a
    cut record is neither learned nor protected by anything the run measured about it)."""
    if not truncated:
        return []
    return [f"  warning: {truncated} of {records} records were cut at --max-length {max_length} tokens (prompt "
            "included); their ends were not trained on: raise --max-length to train on whole records"]


def _demo(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from client_node.demo import DemoSettings, run_demo

    settings = DemoSettings(records=args.records, epochs=args.epochs, n_samples=args.n_samples,
                            max_new_tokens=args.max_new_tokens)
    bar = tqdm(total=0, desc="starting the server and client services", disable=args.json)

    def show(run: dict) -> None:  # type: ignore[type-arg]
        job = run.get("server_job") or {}
        stage = run.get("stage") or run["state"]
        progress = run.get("progress") or {}
        bar.set_description(_waiting_for(run.get("stage"), job.get("stage"), progress.get("total", 0))
                            if run.get("stage") else "queued" if stage == "queued" else "starting the run")
        bar.total, bar.n = progress.get("total", 0), min(progress.get("done", 0), progress.get("total", 0) or 10**9)
        bar.refresh()

    summary = run_demo(Path(args.workdir).resolve(), settings, on_progress=show)
    bar.close()
    if args.json:
        emit_json(summary)
    else:
        emit(_demo_text(summary))
    return 0 if summary["state"] == "succeeded" else 1


_STAGE_WAITS = {None: "starting", "training": "DP training (steps)", "generating": "DP generation (samples)",
                "uploading": "uploading the DP output", "server": "the server's job", "downloading": "downloading results",
                "evaluating": "evaluating on held-out records"}


def _waiting_for(stage: str | None, server_stage: str | None, total: int) -> str:
    """What a progress bar waits for, in words."""
    text = _STAGE_WAITS.get(stage, stage or "")
    if stage == "server" and server_stage:
        text = f"server: {server_stage}"
    return text


def _demo_text(s: dict) -> str:  # type: ignore[type-arg]
    lines = [f"demo run {s['state']} in {s['total_seconds']} s" + (f": {s['error']['message']}" if s.get("error") else "")]
    if s.get("epsilon_spent") is not None:
        lines.append(f"  privacy: epsilon {s['epsilon_spent']:.2f} spent (delta {s['delta']:.1e}) on {s['records']} records")
    counts = s["samples"]
    lines.append(f"  samples: {counts.get('attempts')} generated, {counts.get('generated')} well-formed and new, "
                 f"{counts.get('kept')} kept by the expert, {counts.get('rewritten')} rewritten")
    for name, losses in s["heldout_loss"].items():
        lines.append(f"  held-out loss, {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in losses.items()))
    lines.append(f"  canaries leaked into samples: {len(s['canaries_leaked_in_samples'])} of {s['canaries_planted']}")
    lines.append("  seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in s["timings"].items()))
    for side, compute in (s.get("compute") or {}).items():
        if compute:
            lines.append(f"  {side} computed on {compute['device']} in {compute['precision']} ({compute['reason']})")
    lines.append(f"  report: {s['workdir']}/report.json (samples: {s['workdir']}/samples.jsonl)")
    return "\n".join(lines)

def _run(args: argparse.Namespace) -> int:
    import os
    import signal
    import socket
    import threading
    from pathlib import Path

    from tqdm.auto import tqdm

    from client_node.operations import add_dataset
    from client_node.runs.runner import run_claimed
    from client_node.runs.schemas import Generator, RunCreateRequest, VoteSettings
    from client_node.runs.service import submit_run
    from client_node.runs.store import get_run, run_queue, to_public
    from client_node.state import ClientState
    from client_node.tables.marginals import MarginalAlgorithm, MarginalSettings
    from client_node.voting.plan import VoteNoise
    from shared.protocol import SamplingParams

    state = ClientState.from_settings(_context().settings)
    ctx = state.ctx
    dataset_id = args.dataset
    if Path(args.dataset).is_file():
        if not args.task:
            raise SystemExit("--task is needed when --dataset is a file")
        path = Path(args.dataset)
        if _is_table(args, path):
            added = _add_table_file(ctx, args, path, name=path.stem, task=args.task,
                                    epsilon_budget=args.budget or args.epsilon)
        else:
            added = add_dataset(ctx, path, name=path.stem, task=args.task, epsilon_budget=args.budget or args.epsilon,
                                conditions=_conditions(args))
        dataset_id = str(added["dataset_id"])
    request = RunCreateRequest(
        dataset_id=dataset_id, server_url=args.server, epsilon=args.epsilon, epochs=args.epochs, max_steps=args.max_steps,
        batch_size=args.batch_size, n_samples=args.n_samples, min_grade=args.min_grade, grade=not args.no_grade,
        rewrite=not args.no_rewrite, train_knowledge_adapter=not args.no_knowledge_adapter,
        sampling=SamplingParams(max_new_tokens=args.max_new_tokens, guidance=args.guidance), generator=Generator(args.generator),
        labels=args.labels, max_length=args.max_length, table=_table_settings(args),
        marginals=MarginalSettings(algorithm=MarginalAlgorithm(args.algorithm), rows=args.rows),
        votes=VoteSettings(noise=VoteNoise(args.vote_noise), groups=args.vote_groups,
                           max_new_tokens=min(args.max_new_tokens, 1024)),
        device=args.device, precision=args.precision)
    run_id = submit_run(ctx, request).run_id
    queue, worker_id = run_queue(ctx.ledger.engine), f"{socket.gethostname()}:{os.getpid()}:cli"
    claimed = queue.claim(worker_id)
    if claimed != run_id:
        raise SystemExit(f"another run ({claimed}) was queued first; use the service to run queued runs")
    done, stop = threading.Event(), threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # stop at the next micro-batch, step or poll; resumable
        signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=lambda: (run_claimed(state.runs, run_id, stopping=stop.is_set), done.set()),
                              daemon=True)
    worker.start()
    bar = tqdm(total=0, desc="run", disable=args.json)
    while not done.wait(1.0):
        row = get_run(ctx.ledger.engine, run_id)
        server_stage = (row.server_job or {}).get("stage") if row.stage == "server" else None
        bar.set_description(_waiting_for(row.stage, server_stage, row.progress_total))
        bar.total, bar.n = row.progress_total, min(row.progress_done, row.progress_total or row.progress_done)
        bar.refresh()
    bar.close()
    if stop.is_set():
        queue.requeue(run_id, worker_id)  # the service (or this command again) resumes it
    public = to_public(get_run(ctx.ledger.engine, run_id))
    if args.json:
        emit_json(public.model_dump(mode="json"))
    else:
        emit(f"run {run_id}: {public.state.value}")
        if public.error:
            emit(f"  error: {public.error.code}: {public.error.message}")
        for line in run_lines(public.model_dump(mode="json"), ctx.ledger.status(public.dataset_id)):
            emit(line)
        if public.report:
            emit_json(public.report)
    return 0 if public.state.value == "succeeded" else 1


def run_lines(run: dict[str, Any], budget: Any) -> list[str]:
    """The ledger line (``budget``: the dataset's ``BudgetStatus``), a warning if training cut records, and,
    for conditioned records, the released counts and the samples received per condition."""
    from shared.conditions import condition_key

    lines = [f"  ledger: this run eps {run['epsilon_spent'] if run['epsilon_spent'] is not None else 'inf'}; "
             f"dataset {run['dataset_id']} spent eps {budget.epsilon_spent:.3f} of {budget.epsilon_budget} "
             f"in {budget.runs} run(s)"]
    report = run.get("report") or {}
    training = report.get("training") or {}
    if training.get("truncated_examples"):
        lines += truncation_lines(training["truncated_examples"], training["records"], training["max_length"])
    released = training.get("condition_counts")
    received = (report.get("samples") or {}).get("per_condition") or {}
    if released:
        noise = released["noise_multiplier"]
        lines.append(f"  condition counts released with Gaussian noise sigma {noise}" if noise else
                     "  condition counts (exact: a non-private run)")
        for entry in released["counts"]:
            key = condition_key(entry["conditions"])
            lines.append(f"    {key}: count {entry['count']:.1f}, samples received {received.get(key, 0)}")
    return lines


def _runs_list(args: argparse.Namespace) -> int:
    from client_node.runs.store import list_runs, to_public

    rows, _ = list_runs(_context().ledger.engine)
    public = [to_public(r).model_dump(mode="json") for r in rows]
    if args.json:
        emit_json(public)
    else:
        for run in public:
            emit(f"{run['run_id']}  {run['state']:<9}  {run['stage'] or '-':<11}  dataset {run['dataset_id']}  "
                 f"eps {run['epsilon_spent'] if run['epsilon_spent'] is not None else '-'}")
    return 0


def _runs_show(args: argparse.Namespace) -> int:
    from client_node.runs.store import get_run, to_public

    emit_json(to_public(get_run(_context().ledger.engine, args.run_id)).model_dump(mode="json"))
    return 0


def _runs_cancel(args: argparse.Namespace) -> int:
    from client_node.runs.store import cancel_run, to_public

    public = to_public(cancel_run(_context().ledger.engine, args.run_id))
    emit_json(public.model_dump(mode="json")) if args.json else emit(f"run {public.run_id}: {public.state.value}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from client_node.core.config import get_settings
    from client_node.main import create_app

    apply_compute_flags(args, env_prefix=ENV_PREFIX)
    if get_settings().api_token is None:
        raise SystemExit("set PRIVSYNTH_CLIENT_API_TOKEN: the client API requires an operator token")
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info" if args.verbose else "warning")
    return 0
