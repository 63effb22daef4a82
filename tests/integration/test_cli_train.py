"""`client-node datasets add` then `client-node train` on the real SmolLM2, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess

from client_node.datasets.demo import clinic_records
from shared.adapters import decode_adapter
from tests.utils.processes import cli


def test_train_writes_a_certified_adapter_and_charges_the_ledger(tmp_path) -> None:
    # Prepare: 44 demo records as JSONL.
    data = tmp_path / "clinic.jsonl"
    data.write_text("".join(json.dumps(r.fields()) + "\n" for r in clinic_records(44)), encoding="utf-8")
    env = {**os.environ, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client")}

    def run(*args: str) -> dict:
        out = subprocess.run([cli("client-node"), *args, "--json"], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    added = run("datasets", "add", str(data), "--name", "clinic", "--task", "clinic questions", "--epsilon-budget", "10")
    # Execute
    trained = run("train", "--dataset", added["dataset_id"], "--epsilon", "8", "--epochs", "1", "--batch-size", "10",
                  "--rank", "2", "--targets", "q_proj", "--max-length", "160")
    # Assert: the file decodes, its certificate is the run's, the ledger shows the spend.
    adapter = decode_adapter(open(trained["adapter"], "rb").read())
    assert adapter.metadata.certificate.epsilon == trained["certificate"]["epsilon"] <= 8.0
    assert adapter.metadata.lora.r == 2 and adapter.sha256 == trained["sha256"]
    assert adapter.metadata.template.user_prompt.endswith("about: clinic questions")
    shown = run("datasets", "show", added["dataset_id"])
    assert [r["status"] for r in shown["runs"]] == ["finished"]
    assert 0 < shown["budget"]["epsilon_spent"] <= 8.0
