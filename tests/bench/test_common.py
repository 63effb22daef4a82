"""--settings overrides are checked like the defaults: a misspelt key or a wrong type stops a benchmark at once
instead of running the defaults, or an unchecked value, for an hour."""

from __future__ import annotations

import argparse

import pytest
from pydantic import BaseModel, ConfigDict

from bench.common import with_overrides


class Sizes(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch_size: int = 32
    epsilons: tuple[float, ...] = (8.0, float("inf"))


def test_overrides_are_validated_into_the_settings_type() -> None:
    settings = with_overrides(argparse.ArgumentParser(), Sizes(), {"batch_size": "64", "epsilons": [8]})
    assert settings == Sizes(batch_size=64, epsilons=(8.0,))
    assert isinstance(settings.epsilons, tuple) and isinstance(settings.epsilons[0], float)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"batch_szie": 64}, "cannot set batch_szie here; this benchmark takes batch_size, epsilons"),
    ({"batch_size": "many"}, "batch_size"),
])
def test_a_bad_override_stops_with_exit_2_naming_it(overrides, message, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        with_overrides(argparse.ArgumentParser(), Sizes(), overrides)
    assert stopped.value.code == 2 and message in capsys.readouterr().err


def test_allowed_narrows_what_may_change(capsys) -> None:
    with pytest.raises(SystemExit):
        with_overrides(argparse.ArgumentParser(), Sizes(), {"epsilons": [1]}, allowed=["batch_size"])
    assert "cannot set epsilons here; this benchmark takes batch_size" in capsys.readouterr().err
