"""No file sends the reader to a document outside this repository: every path a tracked file names as a
document (``*.md``, markdown links) exists here, and nothing points above the checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".sh", ".cfg", ".txt", ".ini", ""}
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
DOCUMENT = re.compile(r"(?<![\w/.-])((?:\.{1,2}/)?[\w./-]*[\w-]\.md)\b")
LINK = re.compile(r"\]\(([^)#\s]+)")
OUTSIDE = re.compile(r"(?<![\w.])\.\./(?:shared|\.library)\b|\.library/")


def _tracked() -> list[Path]:
    """Tracked text files, this one aside (its own check cites made-up documents on purpose)."""
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    this = Path(__file__).resolve()
    return [ROOT / n for n in names
            if (ROOT / n).suffix in TEXT_SUFFIXES and (ROOT / n).is_file() and (ROOT / n).resolve() != this]


def _exists(cited: str, source: Path, documents: set[str]) -> bool:
    if (source.parent / cited).resolve().is_relative_to(ROOT) and (source.parent / cited).exists():
        return True
    if (ROOT / cited).exists():
        return True
    return "/" not in cited and cited in documents  # a bare name: some document of ours has it


def citations(path: Path) -> list[str]:
    """The documents a file names (URLs aside)."""
    text = URL.sub(" ", path.read_text(errors="ignore"))
    found = DOCUMENT.findall(text)
    if path.suffix == ".md":
        found += [link for link in LINK.findall(text) if not link.startswith(("mailto:", "#"))]
    return list(dict.fromkeys(found))


def test_every_cited_document_is_in_the_repository() -> None:
    files = _tracked()
    documents = {p.name for p in files if p.suffix == ".md"}
    broken = sorted({f"{p.relative_to(ROOT)}: {c}" for p in files for c in citations(p)
                     if not _exists(c, p, documents)})
    assert broken == []


def test_nothing_points_outside_the_checkout() -> None:
    outside = sorted(f"{p.relative_to(ROOT)}: {m.group(0)}" for p in _tracked()
                     for m in OUTSIDE.finditer(p.read_text(errors="ignore")))
    assert outside == []


def test_the_check_finds_a_citation_of_a_missing_document(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("see STACK.md and [the card](../design/CARD.md) but not https://x.org/README.md\n")
    assert citations(page) == ["STACK.md", "../design/CARD.md"]
    assert not _exists("STACK.md", page, {"README.md"})
