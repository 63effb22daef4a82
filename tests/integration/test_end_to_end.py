"""The demo path on the real bundled models with both services as real processes (small settings)."""

from __future__ import annotations

import json

from client_node.demo import CANARIES, DemoSettings, canaries_leaked, run_demo


def test_the_demo_pipeline_end_to_end(tmp_path) -> None:
    summary = run_demo(tmp_path, DemoSettings(records=64, epochs=1, n_samples=4, max_new_tokens=48, min_grade=0.0))
    assert summary["state"] == "succeeded", summary
    assert 0 < summary["epsilon_spent"] <= 8.0
    assert summary["samples"]["generated"] >= 1 and summary["samples"]["kept"] >= 1
    losses = summary["heldout_loss"]
    assert set(losses) == {"base", "dp_adapter", "knowledge_adapter"}
    assert set(losses["base"]) == {"writing_records", "answering"}
    assert summary["canaries_planted"] == len(CANARIES)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["state"] == "succeeded"
    assert set(summary["timings"]) >= {"training", "uploading", "server", "downloading", "evaluating",
                                       "server generating", "server grading", "server rewriting", "server training"}


def test_canary_detection() -> None:
    assert canaries_leaked(["nothing here"]) == []
    secret = CANARIES[1].split(" is ", 1)[1]
    assert canaries_leaked([f"text with {secret} inside"]) == [CANARIES[1]]


def test_sigterm_ends_the_demo_and_its_services_within_10_s(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import time

    from shared.services import console_script
    from tests.utils.processes import alive, children

    demo = subprocess.Popen([console_script("client-node"), "demo", "--workdir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (started := children(demo.pid)):
            assert demo.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(2)  # the server is loading its models
        begin = time.monotonic()
        os.kill(demo.pid, signal.SIGTERM)
        demo.wait(timeout=20)
        assert time.monotonic() - begin < 10
        assert not [pid for pid in started if alive(pid)]
    finally:
        demo.kill()

