"""Project shape: one-way imports (nodes may import shared, never the reverse), light imports, CLIs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_SHARED = {"client_node", "server_node", "fastapi", "starlette", "uvicorn"}
FORBIDDEN_AT_IMPORT_TIME = {"sqlalchemy", "torch"}  # allowed inside functions only
HEAVY_SHARED_PACKAGES = ("training", "durable")  # torch / SQLAlchemy at module level is their job
WEB_SHARED_PACKAGES = ("web",)  # the HTTP helpers both services use


def _imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in (tree.body if top_level_only else ast.walk(tree)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "shared").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_shared_imports_no_node_and_no_web(path: Path) -> None:
    package = path.relative_to(ROOT / "shared").parts[0]
    forbidden = {"client_node", "server_node"} if package in WEB_SHARED_PACKAGES else FORBIDDEN_IN_SHARED
    assert not (_imports(path) & forbidden)
    if path.relative_to(ROOT / "shared").parts[0] not in HEAVY_SHARED_PACKAGES:
        assert not (_imports(path, top_level_only=True) & FORBIDDEN_AT_IMPORT_TIME)


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for package in ("shared", "client_node", "server_node")
        for p in (ROOT / package).rglob("*.py")
        if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert not missing


def test_importing_shared_does_not_import_torch() -> None:
    code = ("import sys, shared, shared.protocol, shared.models, shared.adapters, shared.database; "
            "print('torch' in sys.modules, 'sqlalchemy' in sys.modules, 'fastapi' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False False False"


@pytest.mark.parametrize("command", ["client-node", "server-node"])
def test_console_scripts_help(command: str) -> None:
    exe = Path(sys.executable).parent / command
    assert exe.exists(), f"{command} is not installed as a console script"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "models" in out.stdout and command in out.stdout
    out = subprocess.run([str(exe), "models", "list", "--json"], capture_output=True, text=True, check=True,
                         env={**os.environ, "PRIVSYNTH_MODEL_CACHE": str(ROOT / ".cache" / "nowhere")})
    assert '"prepared": false' in out.stdout


def test_top_level_layout() -> None:
    for name in ("client_node", "server_node", "shared", "tests", "bench", "pyproject.toml", "docker-compose.yml",
                 "Makefile", "README.md", ".ci/run"):
        assert (ROOT / name).exists(), name
