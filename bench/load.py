"""Several tenants at once against one server: each uploads an adapter, creates jobs and polls them, while
a probe times /healthz. No answer may be 5xx, no tenant may see another's work, /healthz's p99 stays
under 50 ms. The server hosts the tiny random model (the API and queue are measured, not generation).

    privsynth-bench load [--tenants 8] [--seconds 60]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.common import machine, save, table
from shared.adapters.tiny import encode_tiny_adapter
from shared.services import console_script, running_service, tiny_server_env

JOB = {"task": {"domain": "clinic questions", "description": "patient questions and a doctor's answers"},
       "n_samples": 4, "sampling": {"temperature": 1.0, "max_new_tokens": 8}, "min_grade": 0.0, "grade": False,
       "rewrite": False, "train_knowledge_adapter": False}


def _tokens(env: dict[str, str], n: int) -> list[str]:
    import json
    import os

    out = []
    for i in range(n):
        run = subprocess.run([console_script("server-node"), "tokens", "create", f"tenant-{i}", "--json"],
                             env={**os.environ, **env}, capture_output=True, text=True, check=True)
        out.append(json.loads(run.stdout)["token"])
    return out


class Tally:
    """Every answer's status, per tenant and in all (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.leaks: list[str] = []
        self.jobs: dict[int, list[str]] = {}

    def record(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def _tenant(url: str, index: int, token: str, deadline: float, tally: Tally, others: dict[int, list[str]],
            adapter_bytes: bytes) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        adapter = api.post("/v1/adapters", content=adapter_bytes)  # the same file: each tenant stores its own
        tally.record(adapter.status_code)
        mine: list[str] = []
        tally.jobs[index] = mine
        while time.monotonic() < deadline:
            r = api.post("/v1/jobs", json={**JOB, "adapter_id": adapter.json()["adapter_id"], "seed": len(mine)})
            tally.record(r.status_code)
            if r.status_code == 202:
                mine.append(r.json()["job_id"])
            listed = api.get("/v1/jobs", params={"limit": 1000})
            tally.record(listed.status_code)
            foreign = {j["job_id"] for j in listed.json()["data"]} - set(mine)
            if foreign:
                tally.leaks.append(f"tenant {index} listed {sorted(foreign)[:3]}")
            for other, jobs in list(others.items()):  # another tenant's job must be a 404
                if other != index and jobs:
                    r = api.get(f"/v1/jobs/{jobs[0]}")
                    tally.record(r.status_code)
                    if r.status_code != 404:
                        tally.leaks.append(f"tenant {index} read tenant {other}'s job: {r.status_code}")
            for job_id in mine[-3:]:
                tally.record(api.get(f"/v1/jobs/{job_id}").status_code)
            time.sleep(0.2)


def _probe(url: str, deadline: float, latencies: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=5) as api:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            api.get("/healthz").raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)


def run_load(*, tenants: int = 8, seconds: float = 60.0, workdir: Path | None = None) -> dict[str, Any]:
    """The load run's figures: answers by status, leaks across tenants, /healthz latency percentiles."""
    with tempfile.TemporaryDirectory() as tmp:
        root = workdir or Path(tmp)
        env = tiny_server_env(root)
        tokens = _tokens(env, tenants)
        tally, latencies = Tally(), []
        adapter_bytes = encode_tiny_adapter(text=True)[0]  # built once: torch's global seed is not per thread
        with running_service("server-node", env, log=root / "server.log") as server:
            deadline = time.monotonic() + seconds
            threads = [threading.Thread(target=_tenant, args=(server.url, i, tokens[i], deadline, tally, tally.jobs,
                                                                 adapter_bytes))
                       for i in range(tenants)]
            threads.append(threading.Thread(target=_probe, args=(server.url, deadline, latencies)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            with httpx.Client(base_url=server.url, timeout=30) as api:
                states: dict[str, int] = {}
                for token in tokens:
                    for job in api.get("/v1/jobs", params={"limit": 1000},
                                       headers={"Authorization": f"Bearer {token}"}).json()["data"]:
                        states[job["state"]] = states.get(job["state"], 0) + 1
    ordered = sorted(latencies)
    return {"tenants": tenants, "seconds": seconds, "requests": sum(tally.statuses.values()),
            "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
            "server_errors": sum(v for k, v in tally.statuses.items() if k >= 500), "leaks": tally.leaks,
            "jobs_created": sum(len(j) for j in tally.jobs.values()), "job_states": states,
            "healthz_ms": {"n": len(ordered), "p50": statistics.median(ordered),
                           "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], "max": ordered[-1]}}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--name", default="load")
    args = parser.parse_args(argv)
    result = {"benchmark": args.name, "machine": machine(), **run_load(tenants=args.tenants, seconds=args.seconds)}
    print(table([{"tenants": result["tenants"], "seconds": result["seconds"], "requests": result["requests"],
                  "5xx": result["server_errors"], "leaks": len(result["leaks"]), "jobs": result["jobs_created"],
                  "healthz p50 ms": round(result["healthz_ms"]["p50"], 1),
                  "healthz p99 ms": round(result["healthz_ms"]["p99"], 1)}],
                ["tenants", "seconds", "requests", "5xx", "leaks", "jobs", "healthz p50 ms", "healthz p99 ms"]))
    print(f"saved {save(args.name, result)}")


if __name__ == "__main__":
    main()
