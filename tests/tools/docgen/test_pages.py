"""The generated reference pages match the code, and every PRIVSYNTH_* variable anyone names is documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tools.docgen import PAGES, stale_pages
from tools.docgen.markdown import END
from tools.docgen.settings import env_variables, settings_classes

ROOT = Path(__file__).resolve().parents[3]


def test_generated_pages_are_current() -> None:
    assert stale_pages(ROOT) == [], "run: python -m tools.docgen"


def test_every_setting_says_what_it_is() -> None:
    missing = [f"{cls.__name__}.{name}" for _, cls in settings_classes()
               for name, field in cls.model_fields.items() if not field.description]
    assert missing == []


def test_every_privsynth_variable_named_anywhere_is_documented() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    named: dict[str, str] = {}
    for name in files:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yml", ".yaml", ".toml", ".sh", ""} and path.is_file():
            for variable in re.findall(r"\bPRIVSYNTH_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="ignore")):
                named.setdefault(variable, name)
    configuration = (ROOT / "docs/configuration.md").read_text()
    hand_written = set(re.findall(r"^\| `(PRIVSYNTH_[A-Z0-9_]+)`", configuration.split("## Every setting")[0], re.M))
    prefixes = {cls.model_config.get("env_prefix", "") for _, cls in settings_classes()}
    unknown = {v: where for v, where in named.items()
               if v not in env_variables() | hand_written and v not in prefixes and v + "_" not in prefixes}
    assert unknown == {}, "named but neither a setting nor documented in docs/configuration.md"


def test_the_check_command_reports_a_stale_page(tmp_path: Path) -> None:
    for page in PAGES:
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text((ROOT / page).read_text().replace(END, f"a line the code does not make\n{END}"))
    assert sorted(stale_pages(tmp_path)) == sorted(PAGES)
