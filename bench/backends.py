"""Inference backends: the same server jobs through the in-process backend and through a vLLM engine.

Each row starts the server node as a process (``server-node serve``, ``workers`` = the concurrent jobs)
with one backend, uploads one adapter per client (distinct bytes: a trained clinic adapter and copies
with a 1e-4 perturbation of its B matrices, so the engine holds one LoRA per job) and runs that many
jobs at once: generate -> grade -> rewrite (no knowledge adapter: its training runs in the server process
whatever the backend). Samples per minute and generated tokens per second (the kept samples'
instruction and response, re-tokenized) over the wall time from the first job posted to the last one
finished. The engines are vLLM's community CPU build on the same machine: one serving SmolLM2 with LoRA
(the clients' adapters), one serving SmolLM2 without LoRA as the expert (grading's prompt log-probabilities
must not meet vLLM's LoRA layers: vLLM issues 29955, 16668). The local rows use SmolLM2 as expert too, so
both sides do the same work.

Run:  python -m bench.backends [--quick] [--settings JSON]   (needs `make vllm-env`)
Writes bench/results/backends.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from bench.common import RESULTS, machine, save, settings_parser, table, with_overrides
from client_node.datasets.demo import clinic_records
from client_node.training.export import export_adapter
from shared.adapters import decode_adapter, encode_adapter
from shared.constants import DEFAULT_BASE_MODEL
from shared.lora import LoraSpec
from shared.models.loading import load_causal_lm
from shared.models.resolve import resolve_model
from shared.prompts import GenerationTemplate
from shared.services import ServiceProcess, console_script, start_service
from shared.training import PrivateLoraTrainer, TrainConfig

TASK = "patient questions to a clinic and the clinic's answers"


class BackendSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    local_concurrency: tuple[int, ...] = (1, 4)
    engine_concurrency: tuple[int, ...] = (1, 4, 8)
    n_samples: int = 8
    max_new_tokens: int = 64
    temperature: float = 0.8
    generation_batch: int = 8
    seed: int = 0
    adapter_records: int = 48
    adapter_epochs: int = 3
    engine_max_concurrency: int = 32

    @classmethod
    def quick(cls) -> BackendSettings:
        return cls(local_concurrency=(1,), engine_concurrency=(1, 2), n_samples=4, max_new_tokens=32, adapter_epochs=1,
                   adapter_records=16)


def client_adapters(settings: BackendSettings, n: int) -> list[bytes]:
    """A LoRA trained on clinic records (no DP: a throughput benchmark; the server is told to accept it)
    and ``n - 1`` perturbed copies."""
    import torch

    loaded = load_causal_lm(DEFAULT_BASE_MODEL)
    template = GenerationTemplate.for_task(TASK)
    config = TrainConfig(epsilon=float("inf"), epochs=settings.adapter_epochs, batch_size=8, learning_rate=3e-3,
                         lora=LoraSpec(r=8, alpha=16, target_modules=("q_proj", "v_proj")), seed=settings.seed)
    result = PrivateLoraTrainer(config=config, progress=False).train(
        model=loaded.model, tokenizer=loaded.tokenizer, records=clinic_records(settings.adapter_records, seed=3),
        template=template)
    first = export_adapter(result, base=loaded.signature(), template=template)
    decoded = decode_adapter(first)
    out = [first]
    generator = torch.Generator().manual_seed(settings.seed)
    for _ in range(n - 1):
        tensors = {k: (v + 1e-4 * torch.randn(v.shape, generator=generator) if "lora_B" in k else v)
                   for k, v in decoded.tensors.items()}
        out.append(encode_adapter(tensors, decoded.metadata))
    return out


def server_env(root: Path, *, workers: int, engine_url: str | None, expert_url: str | None,
               settings: BackendSettings) -> dict[str, str]:
    env = {"PRIVSYNTH_SERVER_DATA_DIR": str(root), "PRIVSYNTH_SERVER_EXPERT_MODEL": DEFAULT_BASE_MODEL,
           "PRIVSYNTH_SERVER_EMBEDDING_MODEL": "", "PRIVSYNTH_SERVER_ALLOW_NON_PRIVATE": "true",
           "PRIVSYNTH_SERVER_WORKERS": str(workers), "PRIVSYNTH_SERVER_WORKER_POLL_SECONDS": "0.2",
           "PRIVSYNTH_SERVER_GENERATION_BATCH_SIZE": str(settings.generation_batch)}
    if engine_url:
        env |= {"PRIVSYNTH_SERVER_INFERENCE_BACKEND": "engine", "PRIVSYNTH_SERVER_ENGINE_URL": engine_url,
                "PRIVSYNTH_SERVER_ENGINE_EXPERT_URL": expert_url or engine_url,
                "PRIVSYNTH_SERVER_ENGINE_MAX_CONCURRENCY": str(settings.engine_max_concurrency)}
    return env


def run_row(backend: str, jobs: int, adapters: list[bytes], settings: BackendSettings, *, engine_url: str | None,
            expert_url: str | None, work: Path, tokenizer: Any) -> dict[str, Any]:
    root = work / f"{backend}-{jobs}"
    env = server_env(root, workers=jobs, engine_url=engine_url, expert_url=expert_url, settings=settings)
    names = [f"hospital-{i}" for i in range(jobs)]
    tokens = {}
    for name in names:
        created = subprocess.run([console_script("server-node"), "tokens", "create", name, "--json"],
                                 env={**os.environ, **env}, capture_output=True, text=True, check=True)
        tokens[name] = json.loads(created.stdout)["token"]
    server = start_service("server-node", env, log=root.parent / f"{backend}-{jobs}.log", timeout=180)
    try:
        return _run_jobs(server, tokens, adapters[:jobs], settings, backend=backend, tokenizer=tokenizer)
    finally:
        server.stop()


def _run_jobs(server: ServiceProcess, tokens: dict[str, str], adapters: list[bytes], settings: BackendSettings, *,
              backend: str, tokenizer: Any) -> dict[str, Any]:
    http = httpx.Client(base_url=server.url, timeout=60)
    body = {"task": {"domain": "clinic questions", "description": TASK}, "n_samples": settings.n_samples, "seed": settings.seed,
            "sampling": {"temperature": settings.temperature, "max_new_tokens": settings.max_new_tokens},
            "min_grade": 0.0, "train_knowledge_adapter": False}
    uploaded = {}
    for (name, token), adapter in zip(tokens.items(), adapters, strict=True):
        r = http.post("/v1/adapters", content=adapter, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        uploaded[name] = r.json()["adapter_id"]
    start = time.perf_counter()
    jobs = {}
    for name, token in tokens.items():
        r = http.post("/v1/jobs", json={**body, "adapter_id": uploaded[name]}, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        jobs[name] = r.json()["job_id"]
    finished: dict[str, dict[str, Any]] = {}
    while len(finished) < len(jobs):
        for name, job_id in jobs.items():
            if name not in finished:
                job = http.get(f"/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {tokens[name]}"}).json()
                if job["state"] in {"succeeded", "failed", "cancelled"}:
                    finished[name] = job
        time.sleep(0.25)
    wall = time.perf_counter() - start
    samples, generated_tokens = 0, 0
    for name, job in finished.items():
        if job["state"] != "succeeded":
            continue
        lines = http.get(f"/v1/jobs/{job['job_id']}/samples", headers={"Authorization": f"Bearer {tokens[name]}"}).text
        for line in lines.strip().splitlines():
            sample = json.loads(line)
            samples += 1
            generated_tokens += len(tokenizer(sample["instruction"] + sample["response"] + sample["text"],
                                              add_special_tokens=False)["input_ids"])
    stages = {stage: round(sum(j["timings"].get(stage, 0.0) for j in finished.values()) / len(finished), 2)
              for stage in ("generating", "grading", "rewriting")}
    return {"backend": backend, "jobs": len(jobs), "succeeded": sum(j["state"] == "succeeded" for j in finished.values()),
            "errors": [j["error"] for j in finished.values() if j["error"]], "wall_s": round(wall, 1), "samples": samples,
            "attempts": sum(j["counts"].get("attempts", 0) for j in finished.values()),
            "tokens": generated_tokens, "samples_per_min": round(60 * samples / wall, 2),
            "tokens_per_s": round(generated_tokens / wall, 2), "mean_stage_s": stages}


def run_backends(settings: BackendSettings, *, vllm_python: str) -> dict[str, Any]:
    from server_node.inference.vllm_process import start_vllm

    result: dict[str, Any] = {"benchmark": "backends", "machine": machine(), "settings": settings.model_dump(mode="json"),
                              "rows": []}
    tokenizer = load_causal_lm(DEFAULT_BASE_MODEL).tokenizer
    adapters = client_adapters(settings, max((*settings.local_concurrency, *settings.engine_concurrency)))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for jobs in settings.local_concurrency:
            print(f"local backend, {jobs} concurrent job(s)")
            result["rows"].append(run_row("local", jobs, adapters, settings, engine_url=None, expert_url=None, work=work,
                                          tokenizer=tokenizer))
            print(f"  {result['rows'][-1]}")
        model = resolve_model(DEFAULT_BASE_MODEL).path
        engine = start_vllm(vllm_python, model, served_name="smollm2", cache_dir=work / "vllm-cache", log=work / "vllm.log",
                            max_loras=max(settings.engine_concurrency), max_lora_rank=8)
        expert = start_vllm(vllm_python, model, served_name="smollm2", cache_dir=work / "vllm-expert-cache",
                            log=work / "vllm-expert.log", lora=False)
        try:
            for jobs in settings.engine_concurrency:
                print(f"vLLM backend, {jobs} concurrent job(s)")
                result["rows"].append(run_row("vllm", jobs, adapters, settings, engine_url=engine.url,
                                              expert_url=expert.url, work=work, tokenizer=tokenizer))
                print(f"  {result['rows'][-1]}")
        finally:
            engine.stop()
            expert.stop()
    result["seconds"] = round(time.perf_counter() - started, 1)
    baseline = next((r for r in result["rows"] if r["backend"] == "local" and r["jobs"] == 1), None)
    for row in result["rows"]:
        row["samples_per_min_ratio"] = round(row["samples_per_min"] / baseline["samples_per_min"], 2) \
            if baseline and baseline["samples_per_min"] else None
        row["tokens_per_s_ratio"] = round(row["tokens_per_s"] / baseline["tokens_per_s"], 2) \
            if baseline and baseline["tokens_per_s"] else None
    return result


COLUMNS = ["backend", "jobs", "succeeded", "samples", "wall_s", "samples_per_min", "tokens_per_s",
           "samples_per_min_ratio", "tokens_per_s_ratio"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = settings_parser(__doc__, benchmark="backends", quick="1 local job, 1 and 2 engine jobs, 4 samples each")
    parser.add_argument("--vllm-python", default=os.environ.get("PRIVSYNTH_VLLM_PYTHON", ".venv-vllm/bin/python"))
    args = parser.parse_args(argv)
    name = args.name or ("backends_quick" if args.quick else "backends")
    base = BackendSettings.quick() if args.quick else BackendSettings()
    settings = with_overrides(parser, base, args.settings)
    if args.render_only:
        result = json.loads((RESULTS / f"{name}.json").read_text())
    else:
        result = run_backends(settings, vllm_python=str(Path(args.vllm_python).absolute()))  # not resolve(): a venv's python is a symlink
        print(f"saved {save(name, result)} ({result['seconds']} s)")
    print(table(result["rows"], COLUMNS))


if __name__ == "__main__":
    main()
