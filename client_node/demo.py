"""The demo: both services on loopback, the whole pipeline on bundled clinic records with planted canaries.

Starts ``server-node serve`` and ``client-node serve`` as processes (fresh data directories under
``workdir``), adds the demo dataset through the client API, runs DP training -> server generation,
grading, rewriting, knowledge adapter -> download, verification and evaluation, prints a summary, writes
the report, and stops both services. Nothing but the adapter and JSON control messages reach the server.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from client_node.datasets.demo import clinic_records
from shared.services import console_script, running_service

CANARIES = ("my member number is ZX-4471-QP", "the locker code is 9 1 8 2 7", "my email is j.arlow.demo@example.org")
TASK = "patient questions to a clinic and the clinic's answers"


@dataclass(frozen=True)
class DemoSettings:
    records: int = 160
    lora_targets: tuple[str, ...] = ("q_proj", "v_proj")  # all-linear learns more but trains about 2x slower here
    epsilon: float = 8.0
    epochs: int = 2
    n_samples: int = 24
    max_new_tokens: int = 96
    min_grade: float = 0.5


def demo_records(n: int) -> list[dict[str, str]]:
    """Bundled clinic Q&A, with each canary planted in one record's answer (a secret the DP model must not emit)."""
    rows = [{"instruction": r.instruction, "response": r.response} for r in clinic_records(n, seed=42)]
    for i, canary in enumerate(CANARIES):
        rows[(7 + i * n // len(CANARIES)) % n]["response"] += f" For the record, {canary}."
    return rows


def canaries_leaked(texts: list[str]) -> list[str]:
    """The canaries whose secret part appears in any of ``texts``."""
    secrets_only = {c: c.split(" is ", 1)[1] for c in CANARIES}
    return [c for c, secret in secrets_only.items() if any(secret in t for t in texts)]


def run_demo(workdir: Path, settings: DemoSettings = DemoSettings(),
             on_progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """The whole pipeline; returns the summary (also written to ``workdir/report.json``)."""
    for sub in ("server", "client"):  # fresh state each time: the demo dataset's budget starts unspent
        shutil.rmtree(workdir / sub, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    server_env = {"PRIVSYNTH_SERVER_DATA_DIR": str(workdir / "server")}
    token = json.loads(_cli("server-node", ["tokens", "create", f"demo-{secrets.token_hex(3)}", "--json"],
                            server_env))["token"]
    operator = secrets.token_urlsafe(24)
    with running_service("server-node", server_env, log=workdir / "server.log") as server:
        client_env = {"PRIVSYNTH_CLIENT_DATA_DIR": str(workdir / "client"), "PRIVSYNTH_CLIENT_SERVER_URL": server.url,
                      "PRIVSYNTH_CLIENT_SERVER_TOKEN": token, "PRIVSYNTH_CLIENT_API_TOKEN": operator}
        with running_service("client-node", client_env, log=workdir / "client.log") as client, \
                httpx.Client(base_url=client.url, headers={"Authorization": f"Bearer {operator}"}, timeout=60) as api:
            body = "".join(json.dumps(r) + "\n" for r in demo_records(settings.records)).encode()
            dataset = _ok(api.post("/v1/datasets", content=body, params={
                "name": "clinic questions", "task": TASK, "epsilon_budget": settings.epsilon}))
            run = _ok(api.post("/v1/runs", json={
                "dataset_id": dataset["dataset_id"], "epsilon": settings.epsilon, "epochs": settings.epochs,
                "lora_targets": list(settings.lora_targets),
                "n_samples": settings.n_samples, "sampling": {"max_new_tokens": settings.max_new_tokens},
                "min_grade": settings.min_grade, "poll_seconds": 1.0}))
            while run["state"] not in {"succeeded", "failed", "cancelled"}:
                time.sleep(1.0)
                run = _ok(api.get(f"/v1/runs/{run['run_id']}"))
                if on_progress is not None:
                    on_progress(run)
            peaks = {"client": client.peak_rss_mib(), "server": server.peak_rss_mib()}
            samples = api.get(f"/v1/runs/{run['run_id']}/samples").text.splitlines() if run["state"] == "succeeded" else []
    texts = [" ".join(str(v) for v in json.loads(line).values() if isinstance(v, str)) for line in samples]
    job = run.get("server_job") or {}
    report = run.get("report") or {}
    summary = {
        "state": run["state"], "error": run.get("error"), "epsilon_spent": run.get("epsilon_spent"),
        "delta": (report.get("privacy") or {}).get("delta"), "records": settings.records,
        "heldout_records": (report.get("utility") or {}).get("heldout_records"),
        "samples": {k: (job.get("counts") or {}).get(k) for k in ("attempts", "generated", "kept", "dropped", "rewritten")},
        "heldout_loss": {k: v for k, v in (report.get("utility") or {}).items() if isinstance(v, dict)},
        "canaries_planted": len(CANARIES), "canaries_leaked_in_samples": canaries_leaked(texts),
        "timings": {**run.get("timings", {}), **{f"server {k}": v for k, v in (job.get("timings") or {}).items()}},
        "total_seconds": round(time.perf_counter() - started, 1), "workdir": str(workdir),
        "peak_rss_mib": peaks,
        "compute": {"client": _compute_head(report.get("compute")), "server": _compute_head(job.get("compute"))},
    }
    (workdir / "report.json").write_text(json.dumps({"summary": summary, "run": run}, indent=2) + "\n")
    (workdir / "samples.jsonl").write_text("\n".join(samples) + ("\n" if samples else ""))
    return summary


def _compute_head(compute: dict[str, Any] | None) -> dict[str, Any] | None:
    if not compute:
        return None
    return {k: compute.get(k) for k in ("device", "precision", "cpu_class", "reason")}


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}")
    return response.json()  # type: ignore[no-any-return]


def _cli(name: str, args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run([console_script(name), *args], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout
