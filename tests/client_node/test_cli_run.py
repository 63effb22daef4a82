"""``client-node run`` in the foreground against a real tiny server, then ``runs list/show/cancel``."""

from __future__ import annotations

import json
import os
import subprocess

from tests.utils.processes import cli, create_tokens, running_server, tiny_server_env


def test_cli_run_then_runs_commands(tmp_path) -> None:
    server_env = tiny_server_env(tmp_path)
    token = create_tokens(server_env, "cli")["cli"]
    data = tmp_path / "notes.jsonl"
    data.write_text("".join(json.dumps({"text": f"Note {i}: review in {i % 4 + 1} weeks."}) + "\n" for i in range(40)))
    with running_server(server_env, log=tmp_path / "server.log") as url:
        env = {**os.environ, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client"),
               "PRIVSYNTH_CLIENT_BASE_MODEL": str(tmp_path / "tiny-base"), "PRIVSYNTH_CLIENT_SERVER_TOKEN": token}
        out = subprocess.run([cli("client-node"), "run", "--dataset", str(data), "--task", "short clinic notes",
                              "--server", url, "--epsilon", "8", "--epochs", "1", "--batch-size", "8", "--n-samples", "3",
                              "--max-new-tokens", "8", "--min-grade", "0", "--json"],
                             env=env, capture_output=True, text=True, check=False, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    run = json.loads(out.stdout)
    assert run["state"] == "succeeded" and run["server_job"]["counts"]["generated"] == 3
    listed = json.loads(subprocess.run([cli("client-node"), "runs", "list", "--json"], env=env, capture_output=True,
                                       text=True, check=True).stdout)
    assert [r["run_id"] for r in listed] == [run["run_id"]]
    shown = json.loads(subprocess.run([cli("client-node"), "runs", "show", run["run_id"]], env=env, capture_output=True,
                                      text=True, check=True).stdout)
    assert shown["report"]["utility"]["heldout_records"] == 4
    refused = subprocess.run([cli("client-node"), "runs", "cancel", run["run_id"]], env=env, capture_output=True,
                             text=True, check=False)
    assert refused.returncode == 2 and "already succeeded" in refused.stderr


def test_sigterm_ends_a_foreground_run_within_10_s_and_leaves_it_queued(tmp_path) -> None:
    import time

    server_env = tiny_server_env(tmp_path)
    token = create_tokens(server_env, "cli")["cli"]
    data = tmp_path / "notes.jsonl"
    data.write_text("".join(json.dumps({"text": f"Note {i}: review in {i % 4 + 1} weeks."}) + "\n" for i in range(200)))
    env = {**os.environ, "PRIVSYNTH_CLIENT_DATA_DIR": str(tmp_path / "client"),
           "PRIVSYNTH_CLIENT_BASE_MODEL": str(tmp_path / "tiny-base"), "PRIVSYNTH_CLIENT_SERVER_TOKEN": token}
    run = subprocess.Popen([cli("client-node"), "run", "--dataset", str(data), "--task", "short clinic notes",
                            "--server", "http://127.0.0.1:9", "--epsilon", "8", "--epochs", "100", "--batch-size", "4",
                            "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # until DP training has taken a few steps
            listed = subprocess.run([cli("client-node"), "runs", "list", "--json"], env=env, capture_output=True,
                                    text=True, check=False).stdout
            runs = json.loads(listed) if listed.strip().startswith("[") else []
            if runs and runs[0]["stage"] == "training" and runs[0]["progress"]["done"] >= 2:
                break
            assert run.poll() is None and time.monotonic() < deadline, runs
            time.sleep(0.5)
        begin = time.monotonic()
        run.terminate()
        run.wait(timeout=20)
        assert time.monotonic() - begin < 10
    finally:
        run.kill()
    [left] = json.loads(subprocess.run([cli("client-node"), "runs", "list", "--json"], env=env, capture_output=True,
                                       text=True, check=True).stdout)
    assert left["state"] == "queued"  # given back; resumed, its interrupted DP step fails it (charged, never rerun)
