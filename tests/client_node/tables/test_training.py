"""A DP table run on a tiny model: the reference pool's release and DP-SGD in one ledger run, composed (RDP)
into the run's epsilon, the certificate carrying that history; what is refused before anything is spent."""

import math

import pytest

from client_node.datasets.store import DatasetStore
from client_node.ledger import PrivacyLedger, make_engine
from client_node.tables.settings import TableSettings
from client_node.tables.training import run_table_training
from shared.adapters import decode_adapter
from shared.errors import (
    PrivacyBudgetExceededError,
    TableNeighboursError,
    TableSchemaError,
    TrainingConfigError,
)
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.privacy import Mechanism
from shared.prompts import RecordFormat
from shared.tables.schema import ColumnSpec, TableSchema
from shared.training import PrivateLoraTrainer, TrainConfig
from shared.training.accounting import epsilon_of_history
from tests.utils.adapters import tiny_signature

SCHEMA = TableSchema(columns=[ColumnSpec(name="a", kind="integer", lower=0, upper=9),
                              ColumnSpec(name="b", kind="categorical", categories=["u", "v"]),
                              ColumnSpec(name="y", kind="categorical", categories=["n", "p"])], label="y")


def _rows(n: int = 48) -> list[dict[str, str]]:
    return [{"a": str(i % 7), "b": "uv"[i % 2], "y": "np"[int(i % 7 >= 4)]} for i in range(n)]


@pytest.fixture
def setup(tmp_path):
    store = DatasetStore(tmp_path / "ds")
    dataset = store.add_table(_rows(), SCHEMA, name="t", task="tiny rows")
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget(dataset.dataset_id, epsilon=10.0, delta=1e-2)
    model = make_tiny_llama(seed=2)
    return dataset, ledger, model, make_tiny_tokenizer()


def _train(setup, *, epsilon=4.0, max_length=512, **settings):
    dataset, ledger, model, tokenizer = setup
    config = TrainConfig(epsilon=epsilon, epochs=1, batch_size=8, max_length=max_length, precision="fp32")
    return run_table_training(dataset=dataset, ledger=ledger, config=config, settings=TableSettings(neighbours=2, **settings),
                              model=model, tokenizer=tokenizer, base=tiny_signature(model), progress=False)


def test_a_dp_run_composes_pool_and_training_in_one_ledger_run(setup) -> None:
    dataset, ledger, *_ = setup
    run = _train(setup)
    [spend] = ledger.runs(dataset.dataset_id)
    assert spend["mechanism"] == "dp-sgd" and spend["status"] == "finished" and spend["run_id"] == run.run_id
    cert = run.result.certificate
    pool_entry = (run.reference.release["noise_multiplier"], 1.0, 1)
    assert cert.releases == [Mechanism.GAUSSIAN_STATISTICS] and tuple(cert.history[0]) == pytest.approx(pool_entry)
    assert [tuple(h) for h in spend["history"]] == [tuple(h) for h in cert.history]
    assert epsilon_of_history(cert.history, delta=cert.delta) == pytest.approx(cert.epsilon, rel=1e-6)
    assert cert.epsilon == pytest.approx(4.0, abs=0.05) and cert.epsilon <= 4.0 + 1e-6
    assert run.reference.epsilon == pytest.approx(0.4, abs=1e-3)  # the pool alone, at its share of delta
    # composed in RDP, DP-SGD gets less noise than the 90% that adding the epsilons would leave it
    plan = PrivateLoraTrainer(config=TrainConfig(epsilon=3.6, delta=cert.delta * 0.9, epochs=1, batch_size=8),
                              progress=False).plan(len(dataset.train_rows))
    assert cert.noise_multiplier < plan.noise_multiplier
    assert len(run.examples.records) == len(dataset.train_rows)  # one example per private row, none filtered
    assert run.label_rows == run.reference.rows_estimate and set(run.label_rows) == {"n", "p"}
    assert run.as_dict()["label_rows"] == run.label_rows  # what the job's label shares come from: the DP release
    assert run.example_rows == run.reference.sample(1000, seed=0) and len(run.example_rows) == min(1000, len(run.reference.rows))
    adapter = decode_adapter(run.adapter)
    assert adapter.metadata.template.record_format is RecordFormat.TABLE_ROW
    assert adapter.metadata.template.table == SCHEMA and adapter.metadata.certificate == cert


def test_an_undeclared_column_is_refused_before_any_spend(tmp_path) -> None:
    schema = TableSchema(columns=[ColumnSpec(name="a", kind="integer"), *SCHEMA.columns[1:]], label="y")
    dataset = DatasetStore(tmp_path / "ds").add_table(_rows(), schema, name="t", task="tiny rows")
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget(dataset.dataset_id, epsilon=10.0, delta=1e-2)
    with pytest.raises(TableSchemaError, match="declared"):
        _train((dataset, ledger, make_tiny_llama(seed=2), make_tiny_tokenizer()))
    assert ledger.runs(dataset.dataset_id) == []


def test_private_neighbours_are_refused_under_dp_and_used_without(setup) -> None:
    dataset, ledger, *_ = setup
    with pytest.raises(TableNeighboursError) as caught:
        _train(setup, neighbour_source="private")
    assert caught.value.code == "table_neighbours_not_private" and ledger.runs(dataset.dataset_id) == []
    ledger.set_budget(dataset.dataset_id, epsilon=math.inf, delta=1e-2)
    run = _train(setup, epsilon=math.inf)
    assert run.reference is None and not run.result.certificate.is_private
    labels = [row["y"] for row in dataset.train_rows]  # not private: the exact counts may leave
    assert run.label_rows == {"n": float(labels.count("n")), "p": float(labels.count("p"))}
    with pytest.raises(TrainingConfigError, match="reference pool"):
        _train(setup, epsilon=math.inf, neighbour_source="reference")


def test_refusals_come_before_any_spend(setup) -> None:
    dataset, ledger, *_ = setup
    with pytest.raises(PrivacyBudgetExceededError):
        _train(setup, epsilon=20.0)
    with pytest.raises(TrainingConfigError, match="max_length") as caught:
        _train(setup, max_length=40)
    assert caught.value.detail["truncated"] > 0
    assert ledger.runs(dataset.dataset_id) == []


def test_a_marginal_pool_replaces_the_histograms_in_the_same_run(setup) -> None:
    """neighbour_source 'marginals': MST makes the examples' rows and the label shares; its rho is the first
    entry of the run's history, as the histograms' release was."""
    dataset, ledger, *_ = setup
    run = _train(setup, neighbour_source="marginals")
    [spend] = ledger.runs(dataset.dataset_id)
    assert spend["mechanism"] == "dp-sgd" and run.result.certificate.releases == [Mechanism.MARGINALS]
    assert run.reference is not None and run.reference.as_dict()["source"] == "marginals"
    rho = run.reference.release["rho"]
    assert run.result.certificate.history[0][0] == pytest.approx(1 / math.sqrt(2 * rho))
    assert run.reference.epsilon == pytest.approx(0.4, abs=1e-3) and run.result.certificate.epsilon <= 4.0 + 1e-6
    assert set(run.label_rows) == {"n", "p"} and len(run.reference.rows) > 100
    assert all(r["b"] in {"u", "v"} and 0 <= int(r["a"]) <= 9 for r in run.reference.rows)
