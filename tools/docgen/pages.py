"""Which page gets which generated part."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tools.docgen.api import render_api
from tools.docgen.markdown import replace_generated
from tools.docgen.settings import render_settings

PAGES: dict[str, Callable[[], str]] = {"docs/configuration.md": render_settings, "docs/api.md": render_api}


def render_page(root: Path, page: str) -> str:
    """The page as it should read: its hand-written parts with a fresh generated part."""
    return replace_generated((root / page).read_text(), PAGES[page]())


def stale_pages(root: Path) -> list[str]:
    return [page for page in PAGES if render_page(root, page) != (root / page).read_text()]
