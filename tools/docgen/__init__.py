"""Reference pages generated from the code, so they cannot drift: docs/configuration.md from the settings
classes, docs/api.md from both services' OpenAPI specs. ``python -m tools.docgen`` rewrites them;
``python -m tools.docgen --check`` (and a test) fails when a page is stale."""

from tools.docgen.pages import PAGES, render_page, stale_pages

__all__ = ["PAGES", "render_page", "stale_pages"]
