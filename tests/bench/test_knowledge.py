"""The knowledge experiment changes only how knowledge adapters train: a setting that would no longer match
the source run's adapters and samples is refused before anything loads."""

from __future__ import annotations

import pytest

from bench.knowledge import KNOWLEDGE_SETTINGS, main
from bench.quality import QualitySettings


def test_only_the_knowledge_adapters_settings_may_change(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--settings", '{"knowledge_lr": 3e-4, "n_train": 3000}'])
    assert stopped.value.code == 2 and "cannot set n_train" in capsys.readouterr().err
    assert set(KNOWLEDGE_SETTINGS) <= set(QualitySettings.model_fields)
