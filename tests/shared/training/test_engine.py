"""PrivateLoraTrainer on the tiny model: accounting, empty batches, determinism, non-DP baseline."""

from __future__ import annotations

import math

import pytest
import torch

from shared.errors import TrainingConfigError
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.privacy import Accountant, Mechanism
from shared.prompts import GenerationTemplate
from shared.training import PrivateLoraTrainer
from shared.training.accounting import epsilon_of_history
from tests.utils.training import tiny_config, tiny_records

TEMPLATE = GenerationTemplate.for_task("tests")


def _train(config, records=None, **kwargs):
    trainer = PrivateLoraTrainer(config=config, progress=False, **kwargs)
    result = trainer.train(model=make_tiny_llama(), tokenizer=make_tiny_tokenizer(),
                           records=records or tiny_records(), template=TEMPLATE)
    return trainer, result


def test_certificate_epsilon_is_the_accountants() -> None:
    trainer, result = _train(tiny_config(epsilon=4.0, epochs=2))
    cert = result.certificate
    assert cert.epsilon == trainer.epsilon_spent() == pytest.approx(trainer._accountant.get_epsilon(delta=cert.delta))
    assert cert.epsilon == pytest.approx(epsilon_of_history(result.history, delta=cert.delta))
    assert 3.8 <= cert.epsilon <= 4.0
    assert cert.steps == result.plan.steps == 10 and cert.sample_rate == pytest.approx(1 / 5)
    assert cert.delta == pytest.approx(1 / 400) and cert.accountant is Accountant.RDP
    assert cert.noise_multiplier == result.plan.noise_multiplier > 0 and cert.mechanism is Mechanism.DP_SGD
    assert all(torch.isfinite(t).all() for t in result.tensors.values()) and len(result.tensors) == 8


def test_a_prior_release_composes_into_the_plan_the_steps_and_the_certificate() -> None:
    """A Gaussian count release (noise 6, sample rate 1, one step) taken before training: DP-SGD's noise is
    calibrated so both together spend the target, the ledger's view (before_step) and the certificate's
    history carry the release first, and the certificate's epsilon is their composition."""
    prior = [(6.0, 1.0, 1)]
    config = tiny_config(epsilon=4.0, epochs=2)
    alone = PrivateLoraTrainer(config=config, progress=False).plan(40)
    seen: list[list[tuple[float, float, int]]] = []
    trainer = PrivateLoraTrainer(config=config, progress=False, before_step=seen.append)
    plan = trainer.plan(40, prior=prior)
    assert plan.noise_multiplier > alone.noise_multiplier and plan.history()[0] == prior[0]
    result = trainer.train(model=make_tiny_llama(), tokenizer=make_tiny_tokenizer(), records=tiny_records(),
                           template=TEMPLATE, plan=plan)
    cert = result.certificate
    assert seen[0][0] == prior[0] and sum(n for _, _, n in seen[-1]) == plan.steps + 1
    assert cert.history == result.history == [prior[0], (plan.noise_multiplier, plan.sample_rate, plan.steps)]
    assert cert.epsilon == pytest.approx(epsilon_of_history(cert.history, delta=cert.delta)) and 3.9 <= cert.epsilon <= 4.0
    with pytest.raises(TrainingConfigError, match="nothing is left"):
        trainer.plan(40, prior=[(0.3, 1.0, 1)])


def test_max_steps_stops_early_at_the_full_sampling_rate_and_buys_less_noise() -> None:
    """A step budget below the epochs' steps: every record stays in the sampling (rate B/N, not B/budget),
    the accountant charges only the steps taken, and the same epsilon then needs less noise."""
    full = PrivateLoraTrainer(config=tiny_config(epsilon=4.0, epochs=2), progress=False).plan(40)
    trainer, result = _train(tiny_config(epsilon=4.0, epochs=2, max_steps=3))
    assert result.plan.steps == result.certificate.steps == 3 < full.steps == 10
    assert result.plan.sample_rate == full.sample_rate == pytest.approx(1 / 5)
    assert result.plan.noise_multiplier < full.noise_multiplier
    assert sum(n for _, _, n in result.history) == 3 and 3.8 <= result.certificate.epsilon <= 4.0


def test_before_step_sees_each_step_before_it_is_taken() -> None:
    seen: list[int] = []
    trainer, result = _train(tiny_config(), before_step=lambda h: seen.append(sum(n for _, _, n in h)))
    assert seen == list(range(1, result.plan.steps + 1))


def test_empty_poisson_batch_does_not_crash() -> None:
    # Prepare: a sampling rate so low that most Poisson batches are empty.
    config = tiny_config(batch_size=1, epochs=1, epsilon=50.0)
    records = tiny_records(40)
    # Execute
    trainer, result = _train(config, records)
    # Assert: empty batches happened, were stepped (noise only) and counted by the accountant.
    assert result.empty_batches > 0
    assert result.certificate.steps == 40 == sum(n for _, _, n in result.history)
    assert all(torch.isfinite(t).all() for t in result.tensors.values())


def test_seeded_runs_are_identical() -> None:
    _, a = _train(tiny_config(seed=3))
    _, b = _train(tiny_config(seed=3))
    _, c = _train(tiny_config(seed=4))
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors)
    assert any(not torch.equal(a.tensors[k], c.tensors[k]) for k in a.tensors)


def test_non_private_baseline_is_marked() -> None:
    trainer, result = _train(tiny_config(epsilon=math.inf))
    cert = result.certificate
    assert math.isinf(cert.epsilon) and cert.accountant is Accountant.NONE and cert.mechanism is Mechanism.NONE
    assert result.history == [] and math.isinf(trainer.epsilon_spent())


def test_batch_larger_than_data_is_refused() -> None:
    with pytest.raises(TrainingConfigError, match="larger than"):
        PrivateLoraTrainer(config=tiny_config(batch_size=100), progress=False).plan(10)


def test_training_lowers_loss_on_tiny_model() -> None:
    # A random 2-layer model with LoRA on q and v moves slowly, but steadily: about 5.54 -> 5.37 here.
    _, result = _train(tiny_config(epsilon=math.inf, epochs=6, learning_rate=3e-2))
    first, last = sum(result.losses[:3]) / 3, sum(result.losses[-3:]) / 3
    assert last < first - 0.1


@pytest.mark.parametrize("precision", ["bf16", "bf16-autocast"])
def test_dp_training_in_bfloat16_modes(precision: str) -> None:
    _, result = _train(tiny_config(precision=precision))
    assert all(t.dtype == torch.float32 and torch.isfinite(t).all() for t in result.tensors.values())
    assert result.certificate.steps == result.plan.steps and result.losses


@pytest.mark.parametrize("chunking", [{"max_physical_batch": 3}, {"max_tokens_per_pass": 24}])
def test_passes_in_chunks_train_the_same_adapter(chunking: dict[str, int]) -> None:
    """Chunks of at most 3 examples, or of at most 24 padded tokens, only change memory: the same seed gives
    the same DP adapter as whole batches (chunks clipped and summed by opacus before one noisy step), and
    the same without DP."""
    for epsilon in (8.0, float("inf")):
        whole, chunked = [PrivateLoraTrainer(config=tiny_config(epsilon=epsilon, **kwargs), progress=False).train(
            model=make_tiny_llama(seed=0), tokenizer=make_tiny_tokenizer(), records=tiny_records(),
            template=GenerationTemplate.for_task("q")) for kwargs in ({"max_tokens_per_pass": 0}, chunking)]
        assert whole.certificate == chunked.certificate
        assert chunked.losses == pytest.approx(whole.losses, rel=1e-5)
        for name, tensor in whole.tensors.items():
            assert torch.allclose(tensor, chunked.tensors[name], atol=1e-6), name


def test_the_run_records_where_and_how_it_computed() -> None:
    _, result = _train(tiny_config(device="cpu", precision="fp32"))
    assert result.compute is not None
    assert (result.compute.device, result.compute.precision.value) == ("cpu", "fp32")


def test_default_tokens_per_pass_follow_the_precision() -> None:
    from shared.compute import Precision
    from shared.training.config import tokens_per_pass_for

    # bf16 activations take half the memory of fp32's, so bf16 passes may hold more tokens
    assert tokens_per_pass_for(Precision.FP32) < tokens_per_pass_for(Precision.BF16) <= 1024
    assert tokens_per_pass_for(Precision.BF16_AUTOCAST) == tokens_per_pass_for(Precision.FP32)
