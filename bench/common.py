"""What every benchmark records beside its numbers: the machine, versions and a timestamp."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

RESULTS = Path(__file__).resolve().parent / "results"

SettingsT = TypeVar("SettingsT", bound=BaseModel)


def machine() -> dict[str, Any]:
    import torch
    import transformers

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    from shared.compute import resolve_compute

    auto = resolve_compute()
    return {"cpu": cpu, "cpu_class": auto.cpu.cpu_class if auto.cpu else None,
            "auto_compute": {"device": auto.device, "precision": auto.precision.value, "reason": auto.reason},
            "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "memory_gib": round(mem_gib, 1),
            "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "git_commit": commit, "date": datetime.now(UTC).isoformat(timespec="seconds")}


def save(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
             "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def settings_parser(doc: str | None, *, benchmark: str, quick: str) -> argparse.ArgumentParser:
    """The options every settings-driven benchmark takes: --quick, --settings, --name, --render-only,
    --wheels-dir."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--settings", type=json.loads, default={}, help='JSON overrides, e.g. \'{"n_train": 800}\'')
    parser.add_argument("--name", default=None, help=f"results name (default {benchmark} or {benchmark}_quick)")
    parser.add_argument("--wheels-dir", type=Path, default=None,
                        help="where the data packages' wheels are cached (default: the model cache's wheels/)")
    parser.add_argument("--render-only", action="store_true",
                        help="re-read bench/results/<name>.json and redo the report without running")
    return parser


def with_overrides(parser: argparse.ArgumentParser, base: SettingsT, overrides: Mapping[str, Any], *,
                   allowed: Iterable[str] | None = None) -> SettingsT:
    """``base`` with the ``--settings`` overrides, validated like the defaults: a misspelt key or a wrong type
    stops the command (exit 2) instead of running the defaults, or an unchecked value, for an hour."""
    known = sorted(allowed if allowed is not None else type(base).model_fields)
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        parser.error(f"--settings: cannot set {', '.join(unknown)} here; this benchmark takes {', '.join(known)}")
    try:
        return type(base).model_validate({**base.model_dump(), **overrides})
    except ValidationError as error:
        parser.error(f"--settings: {error}")


def wheels_dir_of(args: argparse.Namespace) -> Path:
    from shared.config import ModelSettings

    return args.wheels_dir or ModelSettings().model_cache / "wheels"
