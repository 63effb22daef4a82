"""Server generation stage vs plain batched ``generate`` vs a one-at-a-time loop; /healthz under load.

Part 1 (in process): the same DP adapter merged into SmolLM2, the same data-free prompt, the same
sampling settings and seed. "ours" is the pipeline's generate stage (batched sampling over the top-k candidates
with a KV cache, ``shared.models.sampling``, + parsing + exact and MiniLM near-duplicate removal); "batched" is one plain ``model.generate`` per batch over the
same prompts; "one-at-a-time" is a loop of batch-1 calls. Tokens are counted the same way for all
three (the generated text re-tokenized). Goals: ours >= 0.9x batched, and >= 5x one-at-a-time.

Part 2 (real processes): ``server-node serve`` with the bundled models runs a job while a client asks
/healthz every 50 ms; latency p50/p99 during the job vs with the server idle (goal p99 < 50 ms).

The DP adapter is trained here first (demo clinic records, eps 8) unless --adapter names one.
Run:  python -m bench.server_generation [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import machine, save, table
from server_node.inference import LocalTextModel

TASK = "patient questions to a clinic and the clinic's answers"


def train_demo_adapter(path: Path, *, n_records: int, epochs: int) -> bytes:
    """A real DP adapter (eps 8) on the bundled demo records, cached at ``path``."""
    if path.is_file():
        return path.read_bytes()
    from client_node.datasets.demo import clinic_records
    from client_node.training.export import export_adapter
    from shared.models.loading import load_causal_lm
    from shared.prompts import GenerationTemplate
    from shared.training import PrivateLoraTrainer, TrainConfig

    loaded = load_causal_lm("smollm2-135m-instruct")
    template = GenerationTemplate.for_task(TASK)
    result = PrivateLoraTrainer(config=TrainConfig(epsilon=8.0, epochs=epochs, batch_size=16)).train(
        model=loaded.model, tokenizer=loaded.tokenizer, records=clinic_records(n_records, seed=0), template=template)
    data = export_adapter(result, base=loaded.signature(), template=template)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def generation_rows(adapter_bytes: bytes, *, dtype: str, batch_sizes: list[int], n: int, max_new_tokens: int,
                    single: int) -> list[dict[str, Any]]:
    import torch

    from server_node.pipeline.generate import generate_samples, sampling_prompt
    from shared.adapters import decode_adapter
    from shared.adapters.peft_io import load_lora
    from shared.models.embedding import SentenceEmbedder
    from shared.models.generation import generate_texts
    from shared.models.loading import load_causal_lm
    from shared.protocol import SamplingParams

    adapter = decode_adapter(adapter_bytes)
    loaded = load_causal_lm("smollm2-135m-instruct", dtype=dtype)  # type: ignore[arg-type]
    model = load_lora(loaded.model, adapter).merge_and_unload().eval()
    tokenizer = loaded.tokenizer
    template = adapter.metadata.template
    prompt = sampling_prompt(tokenizer, template) + template.assistant_prefix()  # what the stage sends
    sampling = SamplingParams(temperature=0.8, top_p=0.95, max_new_tokens=max_new_tokens)
    embedder = SentenceEmbedder.load("all-minilm-l6-v2")

    def tokens(texts: list[str]) -> int:
        return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)

    def plain(batch: int, count: int) -> tuple[float, int]:
        torch.manual_seed(0)
        start, texts = time.perf_counter(), []
        for i in range(0, count, batch):
            texts += generate_texts(model, tokenizer, [prompt] * min(batch, count - i), max_new_tokens=max_new_tokens,
                                    temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k)
        return time.perf_counter() - start, tokens(texts)

    seconds, count = plain(1, single)
    one = count / seconds
    rows = [{"dtype": dtype, "method": "one-at-a-time", "batch": 1, "samples": single, "tok/s": one, "seconds": seconds}]
    for batch in batch_sizes:
        seconds, count = plain(batch, n)
        batched = count / seconds
        rows.append({"dtype": dtype, "method": "plain batched generate", "batch": batch, "samples": n, "tok/s": batched,
                     "seconds": seconds, "x one-at-a-time": batched / one})
        start = time.perf_counter()
        result = generate_samples(lm=LocalTextModel(model, tokenizer), template=template, n_samples=n, sampling=sampling,
                                  batch_size=batch, max_attempts=n, seed=0, embedder=embedder, similarity=0.95)
        seconds = time.perf_counter() - start
        ours = result.tokens / seconds  # every attempt's tokens, counted as for the others
        rows.append({"dtype": dtype, "method": "ours (generate stage)", "batch": batch, "samples": n, "tok/s": ours,
                     "seconds": seconds, "x one-at-a-time": ours / one, "x batched": ours / batched,
                     "kept": len(result.samples), "malformed": result.malformed, "duplicates": result.duplicates})
        print(table(rows[-2:], ["dtype", "method", "batch", "tok/s", "seconds", "x one-at-a-time", "x batched", "kept"]),
              flush=True)
    return rows


def healthz_latency(adapter_bytes: bytes, *, n_samples: int, max_new_tokens: int) -> dict[str, Any]:
    import httpx

    from shared.services import console_script, start_service

    with tempfile.TemporaryDirectory() as tmp:
        env = {"PRIVSYNTH_SERVER_DATA_DIR": tmp, "PRIVSYNTH_SERVER_WORKERS": "1"}
        out = subprocess.run([console_script("server-node"), "tokens", "create", "bench", "--json"], env={**os.environ, **env},
                             capture_output=True, text=True, check=True)
        headers = {"Authorization": f"Bearer {json.loads(out.stdout)['token']}"}
        server = start_service("server-node", env, timeout=180, log=Path(tmp) / "server.log")
        try:
            client = httpx.Client(base_url=server.url, timeout=10)

            def probe(seconds: float) -> list[float]:
                samples, end = [], time.monotonic() + seconds
                while time.monotonic() < end:
                    start = time.perf_counter()
                    client.get("/healthz").raise_for_status()
                    samples.append((time.perf_counter() - start) * 1000)
                    time.sleep(0.05)
                return samples

            idle = probe(10)
            adapter_id = client.post("/v1/adapters", content=adapter_bytes, headers=headers).json()["adapter_id"]
            body = {"adapter_id": adapter_id, "task": {"domain": "clinic questions", "description": TASK},
                    "n_samples": n_samples, "sampling": {"max_new_tokens": max_new_tokens}, "rewrite": False,
                    "train_knowledge_adapter": False, "min_grade": 0.0}
            job_id = client.post("/v1/jobs", json=body, headers=headers).json()["job_id"]
            busy: list[float] = []
            done = threading.Event()
            job: dict[str, Any] = {}
            while not done.is_set():
                busy += probe(2)
                job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
                done.set() if job["state"] in {"succeeded", "failed", "cancelled"} else None
        finally:
            server.stop()

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1]

    return {"idle p50 ms": pct(idle, 50), "idle p99 ms": pct(idle, 99), "busy p50 ms": pct(busy, 50),
            "busy p99 ms": pct(busy, 99), "busy max ms": max(busy), "requests during job": len(busy),
            "job state": job.get("state"), "job timings": job.get("timings"), "job counts": job.get("counts")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--adapter", type=Path, default=Path(".cache/bench/clinic-dp-eps8.safetensors"))
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    n, new_tokens, single = (8, 32, 2) if args.quick else (32, 96, 6)
    adapter = train_demo_adapter(args.adapter, n_records=64 if args.quick else 160, epochs=2)
    rows = generation_rows(adapter, dtype="float32", batch_sizes=[16], n=n, max_new_tokens=new_tokens, single=single)
    rows += generation_rows(adapter, dtype="bfloat16", batch_sizes=[8, 16, 32], n=n, max_new_tokens=new_tokens,
                            single=single)
    columns = ["dtype", "method", "batch", "samples", "tok/s", "seconds", "x one-at-a-time", "x batched", "kept",
               "malformed", "duplicates"]
    print(table(rows, columns))
    health = healthz_latency(adapter, n_samples=8 if args.quick else 24, max_new_tokens=new_tokens)
    print(table([health], [k for k in health if not k.startswith("job ")]))
    settings = {"model": "smollm2-135m-instruct", "adapter": "DP eps 8 on demo clinic records, LoRA r8 all linear",
                "samples": n, "max_new_tokens": new_tokens, "temperature": 0.8, "top_p": 0.95, "dedup": "MiniLM 0.95",
                "one_at_a_time_samples": single, "quick": args.quick}
    print(f"saved {save('server_generation', {'machine': machine(), 'settings': settings, 'rows': rows, 'healthz': health})}")


if __name__ == "__main__":
    main()
