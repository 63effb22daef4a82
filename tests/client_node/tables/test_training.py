"""A DP table run on a tiny model: the run's epsilon split between the reference pool and DP-SGD, both in
the ledger and summed in the certificate; what is refused before anything is spent."""

import math

import pytest

from client_node.datasets.store import DatasetStore
from client_node.ledger import PrivacyLedger, make_engine
from client_node.tables.settings import TableSettings
from client_node.tables.training import run_table_training
from shared.adapters import decode_adapter
from shared.errors import PrivacyBudgetExceededError, TableNeighboursError, TrainingConfigError
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import RecordFormat
from shared.tables.schema import ColumnSpec, TableSchema
from shared.training import TrainConfig
from tests.utils.adapters import tiny_signature

SCHEMA = TableSchema(columns=[ColumnSpec(name="a", kind="integer"), ColumnSpec(name="b", kind="categorical"),
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


def test_a_dp_run_charges_pool_and_training_and_certifies_their_sum(setup) -> None:
    dataset, ledger, *_ = setup
    run = _train(setup)
    spends = {r["mechanism"]: r for r in ledger.runs(dataset.dataset_id)}
    assert set(spends) == {"gaussian-statistics", "dp-sgd"} and all(r["status"] == "finished" for r in spends.values())
    assert spends["gaussian-statistics"]["run_id"] == f"{run.run_id}.reference"
    cert = run.result.certificate
    assert cert.epsilon == pytest.approx(spends["dp-sgd"]["epsilon"] + run.reference.epsilon)
    assert cert.delta == pytest.approx(spends["dp-sgd"]["delta"] + run.reference.delta)
    assert cert.epsilon <= 4.0 + 1e-6 and run.reference.epsilon == pytest.approx(0.4)
    assert len(run.examples.records) == len(dataset.train_rows)  # one example per private row, none filtered
    assert run.label_rows == run.reference.rows_estimate and set(run.label_rows) == {"n", "p"}
    assert run.as_dict()["label_rows"] == run.label_rows  # what the job's label shares come from: the DP release
    adapter = decode_adapter(run.adapter)
    assert adapter.metadata.template.record_format is RecordFormat.TABLE_ROW
    assert adapter.metadata.template.table == SCHEMA and adapter.metadata.certificate == cert


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


def test_a_marginal_pool_replaces_the_histograms_in_the_same_split(tmp_path) -> None:
    """neighbour_source 'marginals': MST makes the examples' rows and the label shares, charged as marginals
    beside DP-SGD; the certificate still sums both."""
    schema = TableSchema(columns=[ColumnSpec(name="a", kind="integer", lower=0, upper=9),
                                  ColumnSpec(name="b", kind="categorical", categories=["u", "v"]), SCHEMA.columns[2]],
                         label="y")
    dataset = DatasetStore(tmp_path / "ds").add_table(_rows(), schema, name="t", task="tiny rows")
    ledger = PrivacyLedger(make_engine(f"sqlite:///{tmp_path}/c.db"))
    ledger.set_budget(dataset.dataset_id, epsilon=10.0, delta=1e-2)
    model = make_tiny_llama(seed=2)
    run = _train((dataset, ledger, model, make_tiny_tokenizer()), neighbour_source="marginals")
    spends = {r["mechanism"]: r for r in ledger.runs(dataset.dataset_id)}
    assert set(spends) == {"marginals", "dp-sgd"} and spends["marginals"]["run_id"] == f"{run.run_id}.reference"
    assert run.reference is not None and run.reference.as_dict()["source"] == "marginals"
    assert spends["marginals"]["epsilon"] == pytest.approx(0.4, abs=1e-6)
    assert run.result.certificate.epsilon == pytest.approx(spends["dp-sgd"]["epsilon"] + run.reference.epsilon)
    assert set(run.label_rows) == {"n", "p"} and len(run.reference.rows) > 100
    assert all(r["b"] in {"u", "v"} and 0 <= int(r["a"]) <= 9 for r in run.reference.rows)
