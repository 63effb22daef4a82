"""A DP run on records with conditions, on the tiny model: the condition counts are released in the same
ledger run as DP-SGD (charged first), the training noise is calibrated so both meet the run's epsilon, and
the certificate and the adapter's template carry both."""

from __future__ import annotations

import math

import numpy as np
import pytest

from client_node.datasets.store import DatasetStore
from client_node.ledger import PrivacyLedger, make_engine
from client_node.training.conditions import count_conditions, release_condition_counts
from client_node.training.private_run import run_private_training
from shared.adapters import decode_adapter
from shared.conditions import ConditionSpace
from shared.mechanisms import GaussianMechanism
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.privacy import Mechanism
from shared.records import Record
from shared.training import PrivateLoraTrainer
from shared.training.accounting import epsilon_of_history
from tests.utils.adapters import tiny_signature
from tests.utils.training import tiny_config

SPACE = ConditionSpace(domains={"label": ["negative", "positive"], "item": ["Dresses", "Tops"]})


def _records(n: int = 48) -> list[Record]:
    return [Record(text=f"Review {i}.", conditions=(("item", ("Dresses", "Tops")[i % 2]),
                                                    ("label", ("negative", "positive")[i % 3 == 0]))) for i in range(n)]


def test_counts_follow_the_combinations_and_noise_has_its_scale() -> None:
    records = _records()
    exact = count_conditions(records, SPACE)
    assert exact.tolist() == [16.0, 8.0, 16.0, 8.0] and exact.sum() == len(records)  # item-major, then label
    mechanism = GaussianMechanism.from_noise_multiplier(10.0)
    draws = np.array([release_condition_counts(records, SPACE, mechanism).counts for _ in range(200)])
    # OpenDP's sampler is unseedable: its sd over 800 draws lies within 10 % of sigma (fails ~1e-6)
    assert abs((draws - exact).std() - 10.0) < 1.0 and abs((draws - exact).mean()) < 1.5
    exact_release = release_condition_counts(records, SPACE, None)
    assert [s for _, s in exact_release.shares()] == [1 / 3, 1 / 6, 1 / 3, 1 / 6]
    assert exact_release.as_dict()["noise_multiplier"] == 0.0 and exact_release.counts == tuple(exact)


def test_a_conditioned_run_releases_counts_and_trains_under_one_epsilon(tmp_path) -> None:
    dataset = DatasetStore(tmp_path / "ds").add(_records(), name="r", task="clothing reviews", conditions=SPACE)
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget(dataset.dataset_id, epsilon=10.0, delta=1e-2)
    model, config = make_tiny_llama(seed=2), tiny_config(epsilon=4.0, max_length=96)
    run = run_private_training(dataset=dataset, ledger=ledger, config=config, model=model,
                               tokenizer=make_tiny_tokenizer(), base=tiny_signature(model), progress=False,
                               condition_noise=5.0)
    cert, counts = run.result.certificate, run.condition_counts
    assert counts is not None and counts.mechanism is not None and counts.mechanism.noise_multiplier == 5.0
    assert len(counts.counts) == 4
    assert cert.releases == [Mechanism.CONDITION_COUNTS] and cert.history is not None
    assert cert.history[0] == (5.0, 1.0, 1) and sum(n for *_, n in cert.history) == run.result.plan.steps + 1
    assert cert.epsilon == pytest.approx(epsilon_of_history(cert.history, delta=cert.delta)) and cert.epsilon <= 4.0
    alone = PrivateLoraTrainer(config=config, progress=False).plan(len(dataset.train_records))
    assert cert.noise_multiplier > alone.noise_multiplier  # the counts took part of the budget
    (entry,) = ledger.runs(dataset.dataset_id)  # one ledger run holds both releases
    assert entry["run_id"] == run.run_id and entry["history"][0] == [5.0, 1.0, 1]
    assert entry["epsilon"] == pytest.approx(cert.epsilon)
    template = decode_adapter(run.adapter).metadata.template
    assert template.conditions == SPACE and decode_adapter(run.adapter).metadata.certificate == cert
    assert template.messages((("item", "Tops"), ("label", "positive")))[-1]["content"].endswith(
        "\nConditions: item: Tops; label: positive")


def test_a_non_private_run_counts_exactly_and_spends_nothing_on_them(tmp_path) -> None:
    dataset = DatasetStore(tmp_path / "ds").add(_records(), name="r", task="clothing reviews", conditions=SPACE)
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget(dataset.dataset_id, epsilon=math.inf, delta=1e-2)
    model = make_tiny_llama(seed=2)
    run = run_private_training(dataset=dataset, ledger=ledger, config=tiny_config(epsilon=math.inf, max_length=96),
                               model=model, tokenizer=make_tiny_tokenizer(), base=tiny_signature(model), progress=False)
    assert run.condition_counts is not None and run.condition_counts.mechanism is None
    assert sum(run.condition_counts.counts) == len(dataset.train_records) and not run.result.certificate.releases
