"""DP training really learns on the real SmolLM2 (guards opacus issue #820), and non-DP learns more.

Also runs the whole private run path (budget, ledger charging, export) and checks the exported
adapter's certificate against the run's own accountant.
"""

from __future__ import annotations

import logging
import math

import pytest

from client_node.datasets import DatasetStore
from client_node.datasets.demo import clinic_records
from client_node.evaluation.heldout import heldout_loss
from client_node.ledger import PrivacyLedger, make_engine
from client_node.training.private_run import run_private_training
from shared.adapters import decode_adapter
from shared.adapters.peft_io import load_lora
from shared.compute import resolve_compute
from shared.constants import DEFAULT_BASE_MODEL
from shared.lora import LoraSpec
from shared.models.loading import load_causal_lm, load_for
from shared.prompts import GenerationTemplate
from shared.training import TrainConfig

logger = logging.getLogger(__name__)

N_RECORDS = 150  # 120 train + 30 held out
LORA = LoraSpec(r=8, alpha=16, target_modules=("q_proj", "v_proj"))


@pytest.fixture(scope="module")
def setup(tmp_path_factory, model_settings):
    root = tmp_path_factory.mktemp("client")
    dataset = DatasetStore(root / "datasets").add(clinic_records(N_RECORDS), name="clinic", task="clinic patient questions and answers",
                                                  holdout_fraction=30 / N_RECORDS)
    ledger = PrivacyLedger(make_engine(f"sqlite:///{root}/client.db"))
    ledger.set_budget(dataset.dataset_id, epsilon=math.inf, delta=1e-3)
    return dataset, ledger, model_settings


def _train(setup, epsilon: float, lr: float, epochs: int = 2):
    dataset, ledger, settings = setup
    loaded = load_causal_lm(DEFAULT_BASE_MODEL, settings=settings, prepare=True)
    base = loaded.signature()
    config = TrainConfig(epsilon=epsilon, epochs=epochs, batch_size=20, learning_rate=lr, lora=LORA, max_length=160,
                         precision="auto", seed=0)
    run = run_private_training(dataset=dataset, ledger=ledger, config=config, model=loaded.model,
                               tokenizer=loaded.tokenizer, base=base, progress=False)
    return run, base, loaded.tokenizer


def _loss_with(adapter_bytes: bytes | None, base, setup, template: GenerationTemplate) -> float:
    dataset, _, settings = setup
    loaded = load_for(DEFAULT_BASE_MODEL, resolve_compute(), settings=settings)
    model = loaded.model
    if adapter_bytes is not None:
        model = load_lora(model, decode_adapter(adapter_bytes, base=base))
    return heldout_loss(model, loaded.tokenizer, template, dataset.holdout_records, max_length=160)


def test_dp_adapter_learns_and_non_dp_learns_more(setup) -> None:
    dataset, ledger, _ = setup
    dp_run, base, _ = _train(setup, epsilon=8.0, lr=5e-3)
    cert = dp_run.result.certificate
    assert 7.5 <= cert.epsilon <= 8.0 and cert.delta == pytest.approx(1 / 1200)
    assert ledger.runs(dataset.dataset_id)[0]["status"] == "finished"
    assert ledger.runs(dataset.dataset_id)[0]["steps"] == cert.steps

    plain_run, _, _ = _train(setup, epsilon=math.inf, lr=2e-3, epochs=1)  # learns more even in half the steps
    assert math.isinf(plain_run.result.certificate.epsilon)

    template = dp_run.template
    base_loss = _loss_with(None, base, setup, template)
    dp_loss = _loss_with(dp_run.adapter, base, setup, template)
    plain_loss = _loss_with(plain_run.adapter, base, setup, template)
    logger.warning(f"held-out loss: base {base_loss:.3f}, DP eps={cert.epsilon:.2f} {dp_loss:.3f}, non-DP {plain_loss:.3f}")
    assert dp_loss < base_loss - 0.2, (base_loss, dp_loss)
    assert plain_loss < dp_loss, (dp_loss, plain_loss)
