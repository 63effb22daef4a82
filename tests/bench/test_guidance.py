"""The guidance experiment runs on a quality run's kept artifacts: without them it stops at once, naming
what is missing and the command that makes it."""

from __future__ import annotations

import pytest

from bench.guidance import main


def test_a_source_without_its_artifacts_stops_with_the_command_to_run(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--source", "no_such_quality_run", "--guidance", "1.5"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "no_such_quality_run.json" in err and "python -m bench.quality --name no_such_quality_run" in err


def test_subjects_are_checked(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--subjects", "expert"])
    assert info.value.code == 2 and "invalid choice" in capsys.readouterr().err
