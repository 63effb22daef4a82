"""``client-node``: the data owner's command line."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from client_node import __version__
from shared.cli import add_models_commands, emit, emit_json, run_handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="client-node",
        description="Private side of privsynth: DP-LoRA training on private records, privacy budget ledger, "
        "runs against a server node, local evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    add_models_commands(sub)
    demo = sub.add_parser("demo", help="run the demo on bundled data and the offline default models")
    demo.add_argument("--question", help="ask this instead of the default demo question")
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_handler(args)


def _demo(args: argparse.Namespace) -> int:
    from client_node.demo import DEMO_QUESTION, run_demo

    answers = run_demo(question=args.question or DEMO_QUESTION)
    if args.json:
        emit_json([a.__dict__ for a in answers])
        return 0
    for a in answers:
        emit(f"[{a.model}] (load {a.load_seconds:.1f}s, generate {a.generate_seconds:.1f}s)")
        emit(f"  prompt: {a.prompt}")
        emit(f"  answer: {a.answer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
