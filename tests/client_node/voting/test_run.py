"""Vote generation end to end on a tiny random model: ledger charging, the budget stop, and that one
record moves at most one vote."""

import math

import numpy as np
import pytest

from client_node.ledger import PrivacyLedger, make_engine
from client_node.voting.decoder import VotingPrompts
from client_node.voting.partition import partition_records
from client_node.voting.plan import VoteNoise
from client_node.voting.prompts import group_messages, render_prompt
from client_node.voting.run import VoteConfig, run_vote_generation
from shared.errors import PrivacyBudgetExceededError
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.privacy import Mechanism
from shared.prompts import GenerationTemplate
from shared.records import Record
from shared.training.accounting import epsilon_of_history

TASK = "x"


def _records(n: int = 24) -> list[Record]:
    return [Record(instruction=f"{'good' if i % 2 else 'bad'} {i}", response=f"r{i}") for i in range(n)]


@pytest.fixture(scope="module")
def model_and_tokenizer():
    return make_tiny_llama(seed=3), make_tiny_tokenizer()


@pytest.fixture
def ledger(tmp_path) -> PrivacyLedger:
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/client.db"))
    ledger.set_budget("ds", epsilon=10.0, delta=1e-4)
    return ledger


def _run(ledger, model_and_tokenizer, **config):
    model, tokenizer = model_and_tokenizer
    values = {"epsilon": 3.0, "delta": 1e-5, "n_samples": 2, "max_new_tokens": 6, "groups": 6, "shots": 1, "seed": 0}
    return run_vote_generation(dataset_id="ds", task=TASK, records=_records(), ledger=ledger,
                               config=VoteConfig(**{**values, **config}), model=model, tokenizer=tokenizer)


def test_gaussian_run_charges_the_plan_and_certifies_it(ledger, model_and_tokenizer) -> None:
    run = _run(ledger, model_and_tokenizer)
    assert run.plan.tokens_per_stratum == 12 and 0 < run.tokens_spent["None"] <= 12
    assert run.counts["attempts"] == 2
    assert run.certificate.epsilon == pytest.approx(run.plan.epsilon) and run.certificate.epsilon <= 3.0
    assert run.certificate.mechanism is Mechanism.GAUSSIAN_VOTES and run.certificate.steps == 12
    [spend] = ledger.runs("ds")
    assert spend["status"] == "finished" and spend["mechanism"] == "gaussian-votes"
    assert spend["epsilon"] == pytest.approx(run.plan.epsilon) and spend["steps"] == 12
    # the dataset composes at its budget's delta (1e-4), the run certifies at its own (1e-5)
    assert ledger.status("ds").epsilon_spent == pytest.approx(epsilon_of_history(run.plan.history(12), delta=1e-4))
    for sample in run.samples:
        assert sample["tokens"] <= 6 and set(sample) >= {"instruction", "response", "label"}


def test_generation_stops_when_the_budget_is_spent(ledger, model_and_tokenizer) -> None:
    """Given the noise, the budget buys a number of tokens; asking for far more samples stops there."""
    run = _run(ledger, model_and_tokenizer, noise_multiplier=6.0, n_samples=500, max_new_tokens=8, epsilon=2.0)
    planned = run.plan.tokens_per_stratum
    assert planned < 500 * 8 and run.tokens_spent["None"] == planned
    assert run.counts["attempts"] < 500
    assert run.plan.epsilon_of(planned) <= 2.0 < run.plan.epsilon_of(planned + 1)
    assert ledger.runs("ds")[0]["steps"] == planned


def test_laplace_run_is_charged_pure_epsilon(ledger, model_and_tokenizer) -> None:
    run = _run(ledger, model_and_tokenizer, noise=VoteNoise.LAPLACE, epsilon=1.5)
    [spend] = ledger.runs("ds")
    assert spend["mechanism"] == "laplace-votes" and spend["delta"] == 0.0 and spend["epsilon"] == pytest.approx(1.5)
    status = ledger.status("ds")
    assert status.basic_epsilon == pytest.approx(1.5) and status.rdp_epsilon == pytest.approx(1.5)
    assert run.certificate.delta == 0.0 and run.certificate.mechanism is Mechanism.LAPLACE_VOTES


def test_a_plan_above_the_budget_is_refused_before_any_token(ledger, model_and_tokenizer) -> None:
    with pytest.raises(PrivacyBudgetExceededError):
        _run(ledger, model_and_tokenizer, epsilon=12.0)
    assert ledger.runs("ds") == []


def test_labels_make_strata_that_compose_in_parallel(ledger, model_and_tokenizer) -> None:
    run = _run(ledger, model_and_tokenizer, labels=["good", "bad"], n_samples=4, prefix="{label}: ")
    assert run.plan.tokens_per_stratum == 12  # two samples per label, not four
    assert set(run.tokens_spent) == {"good", "bad"} and all(0 < n <= 6 for n in run.groups.values())
    assert {s["label"] for s in run.samples} <= {"good", "bad"}
    assert all(s["instruction"].startswith(s["label"]) for s in run.samples)


class _RecordingAggregator:
    """Stands in for the noise: records each step's vote histogram and picks a fixed candidate."""

    def __init__(self) -> None:
        self.votes: list[np.ndarray] = []

    def choose(self, votes: np.ndarray) -> int:
        self.votes.append(votes.copy())
        return 0


def test_one_record_moves_at_most_one_vote_at_every_token(model_and_tokenizer) -> None:
    """Neighbouring datasets (one record added) on the real decoding path: every step's histogram differs by
    at most one vote, the sensitivity the noise is calibrated to."""
    model, tokenizer = model_and_tokenizer
    template = GenerationTemplate.for_task(TASK)
    records = _records(30)
    salt = b"s" * 32
    histories = []
    for data in (records, [*records, Record(instruction="an extra record", response="added")]):
        groups = partition_records(data, groups=5, shots=2, salt=salt)
        prompts = VotingPrompts(model, tokenizer, group_prompts=[
            render_prompt(tokenizer, group_messages(template, g), start="") for g in groups.by_stratum[None]],
            public_prompt=render_prompt(tokenizer, template.messages(), start=""))
        recorder = _RecordingAggregator()
        prompts.decode(start=template.assistant_prefix(), aggregator=recorder,  # type: ignore[arg-type]
                       max_new_tokens=8, candidates=6)
        histories.append(recorder.votes)
    assert len(histories[0]) == len(histories[1]) > 0
    for a, b in zip(*histories, strict=True):
        diff = a - b
        assert a.sum() == 5 and np.abs(diff).sum() <= 2 and math.sqrt((diff**2).sum()) <= math.sqrt(2) + 1e-9


def test_declared_conditions_are_the_strata_and_every_prompt_states_its_own(ledger, model_and_tokenizer) -> None:
    """Each combination's records vote only for samples written for it (disjoint strata, parallel
    composition); the groups' and the public prompt state the combination; samples carry it."""
    from shared.conditions import ConditionSpace

    space = ConditionSpace(domains={"label": ["bad", "good"]})
    records = [Record(instruction=f"q{i}", response=f"r{i}", conditions=(("label", "good" if i % 2 else "bad"),))
               for i in range(24)]
    model, tokenizer = model_and_tokenizer
    config = VoteConfig(epsilon=3.0, delta=1e-5, n_samples=4, max_new_tokens=6, groups=6, shots=1, seed=0)
    run = run_vote_generation(dataset_id="ds", task=TASK, records=records, ledger=ledger, config=config, model=model,
                              tokenizer=tokenizer, conditions=space)
    assert set(run.groups) == {"label: bad", "label: good"} == set(run.tokens_spent)  # a random key: some groups empty
    assert all(0 < n <= 6 for n in run.groups.values())
    for sample in run.samples:
        assert sample["conditions"]["label"] == sample["label"] in ("bad", "good")
    template = GenerationTemplate.for_task(TASK, conditions=space)
    shown = group_messages(template, records[:1], (("label", "bad"),))[-1]["content"]
    assert shown.startswith("Here are examples:") and shown.endswith("Conditions: label: bad")
