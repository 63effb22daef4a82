"""Command-line pieces both nodes' CLIs share: the ``models`` and ``hardware`` commands, output helpers."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from shared.config import ModelSettings
from shared.errors import SynthError
from shared.models.bundled import BUNDLED_MODELS
from shared.models.prepare import is_prepared, prepare_model, prepared_dir


def add_models_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``models prepare`` and ``models list`` to a CLI."""
    models = subparsers.add_parser("models", help="prepare and list the offline default models")
    sub = models.add_subparsers(dest="models_command", required=True)
    prepare = sub.add_parser("prepare", help="convert the bundled models into the cache (idempotent)")
    prepare.add_argument("--model", action="append", choices=sorted(BUNDLED_MODELS),
                         help="prepare only this model (repeatable); default: all bundled models")
    prepare.add_argument("--cache", help="cache directory (default: $PRIVSYNTH_MODEL_CACHE)")
    prepare.add_argument("--quiet", action="store_true", help="no progress bars")
    prepare.set_defaults(handler=_prepare)
    listing = sub.add_parser("list", help="list the bundled models and whether they are prepared")
    listing.add_argument("--cache", help="cache directory (default: $PRIVSYNTH_MODEL_CACHE)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)


def add_hardware_command(subparsers: argparse._SubParsersAction, *, env_prefix: str) -> None:  # type: ignore[type-arg]
    """Add ``hardware``: the device and precision this node would compute in here, and why."""
    hardware = subparsers.add_parser("hardware", help="show the device and precision chosen on this machine")
    add_compute_flags(hardware, env_prefix=env_prefix)
    hardware.add_argument("--json", action="store_true", help="machine-readable output")
    hardware.set_defaults(handler=_hardware, env_prefix=env_prefix)


def add_compute_flags(parser: argparse.ArgumentParser, *, env_prefix: str) -> None:
    """``--device`` and ``--precision``; unset, the node's settings (``<prefix>DEVICE``, ``<prefix>PRECISION``)."""
    parser.add_argument("--device", default=None, help=f"auto, cpu, cuda or cuda:N (default: {env_prefix}DEVICE, auto)")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "bf16-autocast"], default=None,
                        help=f"default: {env_prefix}PRECISION, auto (bf16 only where this CPU computes it natively "
                             "and measurably faster)")


def apply_compute_flags(args: argparse.Namespace, *, env_prefix: str) -> None:
    """Make ``--device``/``--precision`` the node's settings for this process (read when settings load)."""
    import os

    for name in ("device", "precision"):
        value = getattr(args, name, None)
        if value:
            os.environ[f"{env_prefix}{name.upper()}"] = value


def _hardware(args: argparse.Namespace) -> int:
    from shared.config import ComputeSettings

    apply_compute_flags(args, env_prefix=args.env_prefix)
    chosen = ComputeSettings(_env_prefix=args.env_prefix).compute().as_dict()  # type: ignore[call-arg]
    if args.json:
        emit_json(chosen)
    else:
        emit(f"{chosen['device']}, {chosen['precision']}: {chosen['reason']}")
        emit(f"  cpu {chosen['cpu']} (class {chosen['cpu_class']}, torch capability {chosen['torch_capability']})"
             + (f"; gpu {chosen['gpu']}" if chosen["gpu"] else ""))
        if chosen["probe"]:
            p = chosen["probe"]
            emit(f"  probe: fp32 {p['fp32_gflops']:.1f} GFLOP/s, bf16 {p['bf16_gflops']:.1f} GFLOP/s "
                 f"({p['bf16_speedup']:.2f}x) on {p['threads']} threads, {p['seconds']:.2f} s")
    return 0


def run_cli(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, set up logging (``-v`` for info), run the chosen subcommand."""
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C (finally blocks stop the services a demo started); `serve`, `worker` and
    # `run` install their own handlers that stop at the next boundary instead
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_handler(args)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run_handler(args: argparse.Namespace) -> int:
    """Call the chosen subcommand; a ``SynthError`` becomes a one-line message and exit code 2."""
    try:
        return int(args.handler(args) or 0)
    except SynthError as exc:
        emit_error(exc, as_json=getattr(args, "json", False))
        return 2


def emit(text: str) -> None:
    """Write a line of normal output (the CLI's only use of stdout)."""
    sys.stdout.write(text + "\n")


def emit_json(data: Any) -> None:
    emit(json.dumps(data, indent=2, sort_keys=True, default=str))


def emit_error(exc: SynthError, *, as_json: bool = False) -> None:
    if as_json:
        sys.stderr.write(json.dumps(exc.to_body()) + "\n")
    else:
        sys.stderr.write(f"error [{exc.code}]: {exc.message}\n")


def _settings(args: argparse.Namespace) -> ModelSettings:
    return ModelSettings(model_cache=args.cache) if args.cache else ModelSettings()


def _prepare(args: argparse.Namespace) -> int:
    settings = _settings(args)
    for name in args.model or sorted(BUNDLED_MODELS):
        model = BUNDLED_MODELS[name]
        if is_prepared(model, settings.model_cache):
            emit(f"{name}: already prepared at {prepared_dir(model, settings.model_cache)}")
            continue
        emit(f"{name}: preparing ({model.description})")
        path = prepare_model(model, settings.model_cache, progress=not args.quiet)
        emit(f"{name}: ready at {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = [
        {"name": m.name, "prepared": is_prepared(m, settings.model_cache),
         "path": str(prepared_dir(m, settings.model_cache)), "description": m.description, "license": m.license}
        for m in BUNDLED_MODELS.values()
    ]
    if args.json:
        emit_json(rows)
    else:
        for row in rows:
            emit(f"{row['name']:<24} {'prepared' if row['prepared'] else 'missing ':<9} {row['path']}")
    return 0
