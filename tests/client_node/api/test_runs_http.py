"""The client service and the server node as two real processes on tiny models: dataset upload, a run
through DP training, upload, the server's job, download with verification, evaluation; budget refusal,
auth, and a readable error when the server is down."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import torch

from shared.adapters import decode_adapter
from tests.utils.processes import create_tokens, free_port, start_server, tiny_server_env
from tests.utils.proxy import RecordingProxy

OPERATOR = "op-secret-token"
RUN = {"epsilon": 8.0, "epochs": 1, "batch_size": 8, "lora_rank": 2, "max_length": 160, "n_samples": 4,
       "sampling": {"temperature": 1.0, "max_new_tokens": 12}, "min_grade": 0.0, "poll_seconds": 0.2}


def _records(tag: str, n: int = 40) -> bytes:
    return "".join(json.dumps({"text": f"Patient note {tag}-{i}: follow-up in {i % 5 + 1} weeks."}) + "\n"
                   for i in range(n)).encode()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e-tiny")
    server_env = tiny_server_env(root)
    token = create_tokens(server_env, "clinic")["clinic"]
    server = start_server(server_env, log=root / "server.log")
    client_env = {"PRIVSYNTH_CLIENT_DATA_DIR": str(root / "client"), "PRIVSYNTH_CLIENT_BASE_MODEL": str(root / "tiny-base"),
                  "PRIVSYNTH_CLIENT_SERVER_URL": server.url, "PRIVSYNTH_CLIENT_SERVER_TOKEN": token,
                  "PRIVSYNTH_CLIENT_API_TOKEN": OPERATOR}
    client = start_server(client_env, log=root / "client.log", node="client-node")
    try:
        yield client.url, server.url, client_env
    finally:
        client.stop()
        server.stop()


def _op(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR}", **extra}


def _add_dataset(url: str, tag: str, epsilon_budget: float = 10.0) -> str:
    """A new dataset (datasets are content-addressed: the same records are the same dataset)."""
    r = httpx.post(f"{url}/v1/datasets", content=_records(tag), headers=_op(),
                   params={"name": "notes", "task": "short clinic follow-up notes", "epsilon_budget": epsilon_budget})
    assert r.status_code == 201, r.text
    return str(r.json()["dataset_id"])


def _wait(url: str, run_id: str, timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = httpx.get(f"{url}/v1/runs/{run_id}", headers=_op()).json()
        if run["state"] in {"succeeded", "failed", "cancelled"}:
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.3)


def test_a_run_goes_through_both_nodes(nodes) -> None:
    client, _, _ = nodes
    dataset_id = _add_dataset(client, "a")
    r = httpx.post(f"{client}/v1/runs", json={**RUN, "dataset_id": dataset_id}, headers=_op())
    assert r.status_code == 202, r.text
    run = _wait(client, r.json()["run_id"])
    assert run["state"] == "succeeded" or "was a valid, new row" in run["error"]["message"], run.get("error")
    assert 0 < run["epsilon_spent"] <= 8.0 + 1e-6
    assert set(run["timings"]) == {"training", "uploading", "server", "downloading", "evaluating"}
    assert run["server_job"]["state"] == "succeeded" and run["server_job"]["counts"]["generated"] == 4
    utility = run["report"]["utility"]
    assert set(utility) >= {"base", "dp_adapter", "knowledge_adapter"} and utility["heldout_records"] == 4
    privacy = run["report"]["privacy"]
    assert privacy["samples"]["samples"] == 4 and 0.0 <= privacy["samples"]["overlap"]["ngram_overlap"] <= 1.0
    assert privacy["membership_inference"]["members"] == 4 and 0.0 <= privacy["membership_inference"]["auc"] <= 1.0
    compute = run["report"]["compute"]  # where training and evaluation ran, and why
    assert compute["device"] == run["server_job"]["compute"]["device"] and compute["cpu_class"] and compute["reason"]
    samples = httpx.get(f"{client}/v1/runs/{run['run_id']}/samples", headers=_op()).text.splitlines()
    assert len(samples) == 4
    adapter = decode_adapter(httpx.get(f"{client}/v1/runs/{run['run_id']}/adapter", headers=_op()).content)
    assert adapter.metadata.certificate.inherited_from == run["adapter_sha256"]
    budget = httpx.get(f"{client}/v1/datasets/{dataset_id}", headers=_op()).json()["budget"]
    # The ledger states the spend at the budget's delta (1/N), the certificate at the run's (1/(10 N)).
    assert 0 < budget["epsilon_spent"] <= run["epsilon_spent"] and budget["runs"] == 1


def test_refusals_are_4xx_with_codes(nodes) -> None:
    client, _, _ = nodes
    dataset_id = _add_dataset(client, "b", epsilon_budget=5.0)
    r = httpx.post(f"{client}/v1/runs", json={**RUN, "dataset_id": dataset_id, "epsilon": 6.0}, headers=_op())
    assert r.status_code == 409 and r.json()["error"]["code"] == "privacy_budget_exceeded"
    r = httpx.post(f"{client}/v1/runs", json={**RUN, "dataset_id": "nope"}, headers=_op())
    assert r.status_code == 404 and r.json()["error"]["code"] == "dataset_not_found"
    assert httpx.get(f"{client}/v1/runs").status_code == 401
    r = httpx.post(f"{client}/v1/datasets", content=b'{"text": 1}\n', headers=_op(),
                   params={"name": "bad", "task": "t", "epsilon_budget": 1})
    assert r.status_code == 422 and r.json()["error"]["code"] == "dataset_invalid"
    labelled = b'{"text": "Fits well", "label": "positive"}\n{"text": "Too small", "label": "neutral"}\n'
    params = {"name": "reviews", "task": "t", "epsilon_budget": 1, "conditions": '{"label": ["negative", "positive"]}'}
    r = httpx.post(f"{client}/v1/datasets", content=labelled, headers=_op(), params=params)
    assert r.status_code == 422 and r.json()["error"]["detail"]["problems"][0]["line"] == 2
    r = httpx.post(f"{client}/v1/datasets", content=labelled.replace(b"neutral", b"negative"), headers=_op(), params=params)
    assert r.status_code == 201 and r.json()["conditions"] == {"label": ["negative", "positive"]}
    r = httpx.post(f"{client}/v1/datasets", content=labelled, headers=_op(), params={**params, "conditions": "[1]"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "dataset_invalid"
    r = httpx.get(f"{client}/v1/runs/nope/report", headers=_op())
    assert r.status_code == 404 and r.json()["error"]["code"] == "ledger_run_not_found"
    r = httpx.post(f"{client}/v1/runs", json={**RUN, "dataset_id": dataset_id, "device": "gpu0"}, headers=_op())
    assert r.status_code == 422 and "error" in r.json()
    if not torch.cuda.is_available():
        r = httpx.post(f"{client}/v1/runs", json={**RUN, "dataset_id": dataset_id, "device": "cuda"}, headers=_op())
        assert r.status_code == 422 and r.json()["error"]["code"] == "device_unavailable"
    for route in ("runs", "datasets"):  # pages are bounded: an offset past 64-bit integers is a 422, not a 500
        r = httpx.get(f"{client}/v1/{route}", params={"offset": 321279189026992881664}, headers=_op())
        assert r.status_code == 422 and r.json()["error"]["code"] == "request_invalid"
    page = httpx.get(f"{client}/v1/datasets", params={"limit": 1}, headers=_op()).json()
    past = httpx.get(f"{client}/v1/datasets", params={"offset": page["count"]}, headers=_op()).json()
    assert len(page["data"]) == 1 and past == {"data": [], "count": page["count"]}


def test_a_server_that_is_down_fails_the_run_readably(nodes) -> None:
    client, _, _ = nodes
    dataset_id = _add_dataset(client, "c")
    body = {**RUN, "dataset_id": dataset_id, "server_url": f"http://127.0.0.1:{free_port()}"}
    run = _wait(client, httpx.post(f"{client}/v1/runs", json=body, headers=_op()).json()["run_id"])
    assert run["state"] == "failed" and run["error"]["code"] == "server_unavailable"
    assert "did not answer" in run["error"]["message"]


def _run_through_proxy(client: str, server_url: str, lines: list[str], name: str,
                       body: dict, **params: str) -> tuple[list[str], dict, bytes]:
    """Add the JSONL ``lines`` as a dataset and run ``body`` on it with a recording proxy in front of the
    server: the records, the finished run, and every byte the client sent."""
    r = httpx.post(f"{client}/v1/datasets", content="\n".join(lines).encode(), headers=_op(),
                   params={"name": name, "task": f"short {name}", "epsilon_budget": 10, **params})
    dataset_id = r.json()["dataset_id"]
    host, port = server_url.removeprefix("http://").split(":")
    with RecordingProxy(host, int(port)) as proxy:
        run_id = httpx.post(f"{client}/v1/runs", json={**body, "dataset_id": dataset_id, "server_url": proxy.url},
                            headers=_op()).json()["run_id"]
        run = _wait(client, run_id)
        sent = proxy.sent
    return [json.loads(line)["text"] for line in lines], run, sent


def test_the_wire_carries_no_private_text(nodes) -> None:
    """Every byte the client sends to the server, captured by a proxy between them: no record, no
    30-character piece of one, and no canary; only the adapter and JSON control messages."""
    client, server_url, _ = nodes
    canary = "the vault code is 7 3 9 1 4 2 8"
    lines = [json.dumps({"text": f"Ward note w-{i}: patient {i} recovers well; {canary if i % 10 == 3 else 'stable'}."})
             for i in range(40)]
    records, run, sent = _run_through_proxy(client, server_url, lines, "ward", RUN)
    assert run["state"] == "succeeded" or "was a valid, new row" in run["error"]["message"], run.get("error")
    assert b"POST /v1/adapters" in sent and b"POST /v1/jobs" in sent
    assert canary.encode() not in sent and b"vault" not in sent
    for text in records:
        for start in range(0, len(text) - 29):
            assert text[start : start + 30].encode() not in sent, text[start : start + 30]
    # What did travel: HTTP requests whose bodies are a safetensors adapter or a JSON job request.
    kinds = []
    for method, path, content_type, payload in _http_requests(sent):
        assert path.startswith("/v1/"), path
        if payload:
            if content_type == "application/octet-stream":
                decode_adapter(payload)  # a valid adapter, nothing else
                kinds.append("adapter")
            else:
                assert content_type == "application/json" and set(json.loads(payload)) <= set(JOB_FIELDS), payload
                kinds.append("json")
        else:
            assert method in {"GET", "DELETE"}
    assert kinds.count("adapter") == 1 and kinds.count("json") == 1


JOB_FIELDS = {"adapter_id", "sample_set_id", "task", "n_samples", "sampling", "min_grade", "min_condition", "grade", "rewrite",
              "train_knowledge_adapter", "dedup_similarity", "table", "seed", "condition_shares", "condition_floor"}


def test_a_conditioned_run_sends_shares_not_labels_and_samples_carry_their_conditions(nodes) -> None:
    """Records with a declared label: the client releases the label counts in the training run (one
    ledger run, one certificate naming both releases); the wire carries the adapter and the job with the
    DP shares, never a record or its label; the server writes each sample for a planned label."""
    client, server_url, _ = nodes
    lines = [json.dumps({"text": f"Review r-{i}: the {('sleeves', 'hem')[i % 2]} of item {i} was {('bad', 'fine')[i % 3 > 0]}.",
                         "label": ("negative", "positive")[i % 3 > 0]}) for i in range(40)]
    body = {**RUN, "n_samples": 6, "min_condition": 0.0, "rewrite": False}
    records, run, sent = _run_through_proxy(client, server_url, lines, "reviews", body,
                                            conditions='{"label": ["negative", "positive"]}')
    assert run["state"] == "succeeded", run.get("error")
    for text in records:
        for start in range(0, len(text) - 29):
            assert text[start : start + 30].encode() not in sent, text[start : start + 30]
    (job,) = [json.loads(p) for _, _, kind, p in _http_requests(sent) if kind == "application/json" and p]
    shares = {s["conditions"]["label"]: s["share"] for s in job["condition_shares"]}
    assert set(shares) == {"negative", "positive"} and sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    samples = [json.loads(line) for line in
               httpx.get(f"{client}/v1/runs/{run['run_id']}/samples", headers=_op()).text.splitlines()]
    assert len(samples) == 6 and all(s["conditions"]["label"] in ("negative", "positive") for s in samples)
    assert all(s["label"] == s["conditions"]["label"] for s in samples)  # graded against the given label
    adapter = decode_adapter(httpx.get(f"{client}/v1/runs/{run['run_id']}/adapter", headers=_op()).content)
    certificate = adapter.metadata.certificate
    assert certificate.releases == ["condition-counts"] and certificate.history[0][1:] == (1.0, 1)
    ledger = httpx.get(f"{client}/v1/datasets/{run['dataset_id']}", headers=_op()).json()
    assert ledger["budget"]["runs"] == 1
    report = run["report"]  # released counts beside what came back; TSTR on the label the samples were written for
    assert sum(report["samples"]["per_condition"].values()) == 6
    assert {c["conditions"]["label"] for c in report["training"]["condition_counts"]["counts"]} == {"negative", "positive"}
    assert report["training"]["truncated_examples"] == 0 and report["training"]["records"] > 0
    tstr = report["utility"]["tstr"]
    assert tstr["samples_labelled"] == 6 and tstr["synthetic"]["n_test"] == tstr["real"]["n_test"] == 4


SAMPLE_SET_FIELDS = {"samples", "certificate", "base_model", "lora"}


def test_a_training_free_run_sends_only_dp_samples(nodes) -> None:
    """Generator "votes": the client generates DP samples by noisy votes (ledger-charged), and only those
    samples with their certificate cross the wire; the server grades them and trains the knowledge adapter,
    which inherits their certificate."""
    client, server_url, _ = nodes
    lines = [json.dumps({"text": f"Ward memo m-{i}: the night shift logged reading {i * 7} for bed {i}."})
             for i in range(40)]
    body = {**RUN, "generator": "votes", "epsilon": 4.0, "n_samples": 3, "votes": {"groups": 6, "max_new_tokens": 10}}
    records, run, sent = _run_through_proxy(client, server_url, lines, "memos", body)
    dataset_id = run["dataset_id"]
    assert run["state"] == "succeeded", run["error"]
    assert run["sample_set_sha256"] and run["adapter_sha256"] is None and 0 < run["epsilon_spent"] <= 4.0
    assert b"POST /v1/sample-sets" in sent and b"POST /v1/adapters" not in sent
    for text in records:
        for start in range(0, len(text) - 29):
            assert text[start : start + 30].encode() not in sent, text[start : start + 30]
    bodies = [json.loads(payload) for _, _, _, payload in _http_requests(sent) if payload]
    [sample_set] = [b for b in bodies if "samples" in b]
    assert set(sample_set) == SAMPLE_SET_FIELDS and sample_set["certificate"]["mechanism"] == "gaussian-votes"
    assert all(set(b) <= JOB_FIELDS for b in bodies if b is not sample_set)
    report = httpx.get(f"{client}/v1/runs/{run['run_id']}/report", headers=_op()).json()
    assert report["privacy"]["mechanism"] == "gaussian-votes" and report["privacy"]["epsilon"] <= 4.0
    generation = report["privacy"]["generation"]
    assert generation["plan"]["tokens_per_stratum"] == 30 and generation["tokens_spent"]["None"] <= 30
    assert 0 < generation["plan"]["epsilon_per_sample"] < generation["plan"]["epsilon"] <= 4.0
    assert "knowledge_adapter" in report["utility"] and "dp_adapter" not in report["utility"]
    shown = httpx.get(f"{client}/v1/datasets/{dataset_id}", headers=_op()).json()
    [spend] = shown["runs"]
    assert spend["mechanism"] == "gaussian-votes" and spend["status"] == "finished" and spend["steps"] > 0
    assert shown["budget"]["epsilon_spent"] > 0


def _table_csv(n: int = 40) -> bytes:
    lines = ["age,unit,score,outcome"] + [f"{30 + i % 17},unit-qz{i % 4}x,{i % 9 / 4},{'stay' if i % 3 else 'leave'}"
                                          for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


TABLE_DOMAIN = {"public_categories": json.dumps({"unit": [f"unit-qz{i}x" for i in range(4)], "outcome": ["leave", "stay"]}),
                "public_bounds": json.dumps({"age": [18, 99], "score": [0, 5]}), "public_cuts": json.dumps({"age": [40, 60]})}


def test_tables_are_uploaded_with_a_schema_and_bad_ones_refused(nodes) -> None:
    client, _, _ = nodes
    params = {"name": "wards", "task": "hospital wards", "epsilon_budget": 10, "kind": "table", "format": "csv"}
    r = httpx.post(f"{client}/v1/datasets", content=_table_csv(), headers=_op(), params={**params, "label": "outcome"})
    assert r.status_code == 422 and r.json()["error"]["detail"]["undeclared"] == {  # nothing read off the rows
        "categories": ["unit", "outcome"], "bounds": ["age", "score"]}
    params = {**params, **TABLE_DOMAIN}
    r = httpx.post(f"{client}/v1/datasets", content=_table_csv(), headers=_op(), params={**params, "label": "outcome"})
    assert r.status_code == 201, r.text
    info = r.json()
    assert info["kind"] == "table" and info["records"] == 40 and info["schema"]["label"] == "outcome"
    assert [c["kind"] for c in info["schema"]["columns"]] == ["integer", "categorical", "float", "categorical"]
    assert info["schema"]["columns"][0]["cuts"] == [40, 60]
    for extra, status, code in (({"label": "nope"}, 422, "table_schema_invalid"),
                                ({"public_cuts": '{"age": [70, 60]}'}, 422, "table_schema_invalid"),
                                ({"kinds": "{not json"}, 422, "table_schema_invalid"),
                                ({"public_bounds": '{"age": [40, 99], "score": [0, 5]}'}, 422, "dataset_invalid"),
                                ({"format": "jsonl"}, 422, "table_schema_invalid")):
        r = httpx.post(f"{client}/v1/datasets", content=_table_csv(), headers=_op(), params={**params, **extra})
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (extra, r.text)
    r = httpx.post(f"{client}/v1/datasets", content=b"PAR1", headers=_op(),
                   params={"name": "x", "task": "t", "epsilon_budget": 1, "format": "parquet"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "dataset_invalid"
    r = httpx.post(f"{client}/v1/runs", json={**RUN, "dataset_id": info["dataset_id"], "generator": "votes"}, headers=_op())
    assert r.status_code == 422 and "table" in r.json()["error"]["message"]


def test_a_table_run_sends_only_the_adapter_and_the_job(nodes) -> None:
    """A DP table run on tiny random models: the client builds the reference pool and the examples and
    trains; only the adapter (with the public schema) and JSON job requests cross the wire, no private cell.
    Whether the random server model closes a free-text value in time is chance: the run either succeeds or
    fails saying no row was valid; either way only the adapter and the job crossed (the real-model run is
    tests/integration/test_table_run.py)."""
    client, server_url, _ = nodes
    r = httpx.post(f"{client}/v1/datasets", content=_table_csv(48), headers=_op(),
                   params={"name": "wards2", "task": "hospital wards", "epsilon_budget": 10, "kind": "table",
                           "label": "outcome", **TABLE_DOMAIN})
    assert r.status_code == 201, r.text
    dataset_id = r.json()["dataset_id"]
    host, port = server_url.removeprefix("http://").split(":")
    body = {**RUN, "max_length": None, "epsilon": 4.0, "table": {"neighbours": 2}, "n_samples": 4}
    with RecordingProxy(host, int(port)) as proxy:
        run_id = httpx.post(f"{client}/v1/runs", json={**body, "dataset_id": dataset_id, "server_url": proxy.url},
                            headers=_op()).json()["run_id"]
        run = _wait(client, run_id)
        sent = proxy.sent
    assert run["state"] == "succeeded" or "was a valid, new row" in run["error"]["message"], run.get("error")
    for line in _table_csv(48).decode().splitlines()[1:]:  # no private row, as CSV or as the model's JSON
        age, unit, score, outcome = line.split(",")
        row = {"age": age, "unit": unit, "score": f"{float(score):.6g}", "outcome": outcome}
        assert line.encode() not in sent and json.dumps(row, separators=(",", ":")).encode() not in sent
    kinds = []
    for _, _, content_type, payload in _http_requests(sent):
        if content_type == "application/octet-stream":
            adapter = decode_adapter(payload)
            schema = adapter.metadata.template.table
            assert schema is not None and schema.names == ["age", "unit", "score", "outcome"]
            assert schema.column("unit").categories == [f"unit-qz{i}x" for i in range(4)]  # declared: public
            assert schema.labels == ["leave", "stay"]
            assert adapter.metadata.certificate.epsilon <= 4.0 + 1e-6
            kinds.append("adapter")
        elif payload:
            job = json.loads(payload)
            assert set(job) <= JOB_FIELDS and job["table"]["neighbours"] == 2 and job["task"]["labels"] is None
            shares = job["table"]["label_shares"]  # from the DP reference pool's release; none when its noisy
            assert shares is None or set(shares) == {"leave", "stay"}  # estimates (eps 0.4, 48 rows) are all <= 0
            kinds.append("job")
    assert kinds == ["adapter", "job"]
    spends = httpx.get(f"{client}/v1/datasets/{dataset_id}", headers=_op()).json()["runs"]
    assert [s["mechanism"] for s in spends] == ["dp-sgd"]  # the pool's release is the first entry of its history


def _http_requests(stream: bytes) -> list[tuple[str, str, str, bytes]]:
    """Split captured HTTP/1.1 client bytes into (method, path, content type, body)."""
    out = []
    while stream:
        head, _, rest = stream.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        out.append((method, path, headers.get("content-type", "").split(";")[0], rest[:length]))
        stream = rest[length:]
    return out


def test_a_client_killed_mid_run_resumes_polling_after_restart(nodes, tmp_path) -> None:
    _, server_url, env = nodes
    env = {**env, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client")}
    log = tmp_path / "client.log"
    client = start_server(env, log=log, node="client-node")
    try:
        dataset_id = _add_dataset(client.url, "d")
        body = {**RUN, "dataset_id": dataset_id, "n_samples": 40, "sampling": {"temperature": 1.0, "max_new_tokens": 48}}
        run_id = httpx.post(f"{client.url}/v1/runs", json=body, headers=_op()).json()["run_id"]
        deadline = time.monotonic() + 120
        while True:
            before = httpx.get(f"{client.url}/v1/runs/{run_id}", headers=_op()).json()
            if before["stage"] == "server" and before["server_job"]:
                break
            assert before["state"] not in {"failed", "succeeded"} and time.monotonic() < deadline, before
            time.sleep(0.2)
        client.kill()
    finally:
        client.stop()
    client = start_server(env, log=log, node="client-node")
    try:
        after = _wait(client.url, run_id)
    finally:
        client.stop()
    assert after["state"] == "succeeded", (after, log.read_text()[-2000:])
    assert after["server_job"]["job_id"] == before["server_job"]["job_id"]  # polled the same job, made no new one
    assert after["timings"]["training"] == before["timings"]["training"] and after["adapter_sha256"] == before["adapter_sha256"]
    assert f"recovered interrupted {run_id}" in log.read_text(), log.read_text()[-3000:]


def test_sigterm_mid_dp_training_stops_within_10_s_and_the_run_fails_charged_what_it_spent(nodes, tmp_path) -> None:
    _, server_url, env = nodes
    env = {**env, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client")}
    client = start_server(env, log=tmp_path / "client.log", node="client-node")
    try:
        r = httpx.post(f"{client.url}/v1/datasets", content=_records("sig", n=200), headers=_op(),
                       params={"name": "notes", "task": "short clinic follow-up notes", "epsilon_budget": 10})
        dataset_id = r.json()["dataset_id"]
        body = {**RUN, "dataset_id": dataset_id, "epochs": 100, "batch_size": 4}  # far more steps than we wait for
        run_id = httpx.post(f"{client.url}/v1/runs", json=body, headers=_op()).json()["run_id"]
        deadline = time.monotonic() + 120
        while httpx.get(f"{client.url}/v1/runs/{run_id}", headers=_op()).json()["progress"]["done"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert client.terminate_timed() < 10
    finally:
        client.stop()
    client = start_server(env, log=tmp_path / "client.log", node="client-node")
    try:
        run = _wait(client.url, run_id, timeout=60)
        info = httpx.get(f"{client.url}/v1/datasets/{dataset_id}", headers=_op()).json()
    finally:
        client.stop()
    assert run["state"] == "failed" and run["error"]["code"] == "stage_interrupted", run
    [spend] = info["runs"]
    assert spend["status"] == "failed" and 3 <= spend["steps"] < 100 * 180 // 4
    from shared.training.accounting import epsilon_of_history

    history = [tuple(h) for h in spend["history"]]
    # the ledger's spend is the RDP accountant over exactly the steps recorded before each was taken
    assert info["budget"]["epsilon_spent"] == pytest.approx(
        epsilon_of_history(history, delta=info["budget"]["delta_budget"]), rel=1e-6)
    assert info["budget"]["epsilon_spent"] < 8.0
