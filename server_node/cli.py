"""``server-node``: the provider's command line."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from server_node import __version__
from shared.cli import add_models_commands, run_handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="server-node",
        description="Provider side of privsynth: hosts the base and expert models, turns clients' DP adapters "
        "into graded, refined synthetic data and knowledge adapters.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    add_models_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
