"""python -m tools.docgen [--check]: rewrite the generated reference pages, or say which are stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.docgen.pages import PAGES, render_page, stale_pages


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.docgen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale pages (exit 1 if any)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository (default: here)")
    args = parser.parse_args()
    if args.check:
        stale = stale_pages(args.root)
        for page in stale:
            print(f"{page} is stale: run python -m tools.docgen", file=sys.stderr)
        return 1 if stale else 0
    for page in PAGES:
        (args.root / page).write_text(render_page(args.root, page))
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
