"""GPU throughput of our trainer and our sampler on real-shaped models with random weights.

Training: ``PrivateLoraTrainer`` without DP, with DP by opacus' per-sample hooks and with DP by ghost
clipping (``TrainConfig.per_sample``), LoRA r8 on all linear layers, sequences of exactly ``seq`` tokens, the
precision ``auto`` picks there; tokens/s after ``warmup`` steps and peak memory, and each DP mode's time and
memory against the non-DP run of the same batch. Generation: transformers' ``generate`` against our sampler
(``shared.models.sampling``) with its growing cache and with its static cache (one CUDA graph a step), on the
same prompts, every row the same number of new tokens. No weights travel: models are built from their
public configurations (``SHAPES``), so losses mean nothing; the shapes and the work are real.

Run on a CUDA machine:  python -m bench.gpu   [--quick: tiny shapes on any device, minutes on a CPU]
Writes bench/results/gpu.json (or gpu_quick.json) with the GPU, torch and CUDA versions.
"""

from __future__ import annotations

import gc
import math
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from bench.common import machine, save, settings_parser, table, with_overrides
from shared.lora import DEFAULT_TARGET_MODULES, LoraSpec

# the public configurations of the shapes (vocabulary 49,152, tied embeddings, as SmolLM2)
SHAPES: dict[str, dict[str, int]] = {
    "smollm2-135m": {"hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
                     "num_key_value_heads": 3},
    "smollm2-1.7b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 24, "num_attention_heads": 32,
                     "num_key_value_heads": 32},
    "tiny": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2},
}
MODES = ("none", "hooks", "ghost")  # per-sample mode; none: the non-DP run


class GpuSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    shapes: tuple[str, ...] = ("smollm2-135m", "smollm2-1.7b")
    batch: dict[str, int] = {"smollm2-135m": 32, "smollm2-1.7b": 16, "tiny": 4}
    vocab: int = 49152
    seq: int = 256
    steps: int = 10
    warmup: int = 3
    lora_rank: int = 8
    lora_targets: tuple[str, ...] = DEFAULT_TARGET_MODULES
    generation_batch: int = 64
    prompt_tokens: int = 32
    new_tokens: int = 128
    device: str = "cuda"
    precision: str = "auto"

    @classmethod
    def quick(cls) -> GpuSettings:
        return cls(shapes=("tiny",), vocab=512, seq=128, steps=2, warmup=1, generation_batch=4, prompt_tokens=8,
                   new_tokens=8, device="cpu", precision="fp32")


def build_model(shape: str, settings: GpuSettings) -> Any:
    """A causal LM of ``shape`` with random weights, on the benchmark's device."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=settings.vocab, tie_word_embeddings=True, max_position_embeddings=8192,
                         head_dim=64 if shape != "tiny" else 16, **SHAPES[shape])
    torch.manual_seed(0)
    with torch.device(settings.device):
        model = LlamaForCausalLM(config)
    return model.eval()


def train_row(shape: str, mode: str, settings: GpuSettings) -> dict[str, Any]:
    """Tokens/s and peak memory of ``steps`` training steps (after ``warmup``) in one per-sample mode."""
    import torch

    from shared.models.tiny import make_tiny_tokenizer
    from shared.prompts import GenerationTemplate
    from shared.records import Record
    from shared.training import PrivateLoraTrainer, TrainConfig

    batch = settings.batch[shape]
    n = batch * (settings.steps + settings.warmup)
    records = [Record(instruction="q", response="y" * (2 * settings.seq)) for _ in range(n)]  # cut at seq tokens
    config = TrainConfig(epsilon=math.inf if mode == "none" else 8.0, epochs=1, batch_size=batch, max_length=settings.seq,
                         lora=LoraSpec(r=settings.lora_rank, alpha=2.0 * settings.lora_rank,
                                       target_modules=settings.lora_targets),
                         device=settings.device, precision=settings.precision, max_tokens_per_pass=0,
                         per_sample="hooks" if mode == "none" else mode)
    model = build_model(shape, settings)
    cuda = settings.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times: list[float] = []
    sizes: list[int] = []

    def on_step(info: Any) -> None:  # the trainer brings the loss back each step: the device is synchronized
        times.append(time.perf_counter())
        sizes.append(info.batch_size)

    result = PrivateLoraTrainer(config=config, progress=False, on_step=on_step).train(
        model=model, tokenizer=make_tiny_tokenizer(), records=records, template=GenerationTemplate.for_task("bench"))
    timed = slice(settings.warmup, None)
    seconds = times[-1] - times[settings.warmup - 1] if settings.warmup else result.seconds
    tokens = sum(sizes[timed]) * settings.seq
    row = {"shape": shape, "mode": mode, "batch": batch, "steps": len(times[timed]), "seconds": round(seconds, 3),
           "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None,
           "seconds_per_step": round(seconds / max(1, len(times[timed])), 4),
           "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
           "precision": result.compute.precision.value if result.compute else None}
    del model, result
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return row


def generation_rows(shape: str, settings: GpuSettings) -> list[dict[str, Any]]:
    """New tokens/s of ``generate`` and of our sampler (growing cache, static cache) on the same prompts."""
    import torch

    from shared.models.generation import left_padded
    from shared.models.sampling import sample_texts
    from shared.models.tiny import make_tiny_tokenizer

    tokenizer = make_tiny_tokenizer()
    model = build_model(shape, settings)
    if settings.device.startswith("cuda"):
        model = model.to(torch.bfloat16)
    rng = random.Random(0)
    prompts = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(settings.prompt_tokens))
               for _ in range(settings.generation_batch)]  # byte tokens: one a character
    never = settings.vocab + 1  # both generators stop at the config's end-of-sequence: an id never drawn
    model.generation_config.eos_token_id = never

    def run_generate() -> int:
        batch = left_padded(tokenizer, prompts, add_special_tokens=False, device=model.device)
        with torch.inference_mode():
            out = model.generate(**batch, max_new_tokens=settings.new_tokens, min_new_tokens=settings.new_tokens,
                                 do_sample=True, temperature=1.0, top_k=50, pad_token_id=tokenizer.pad_token_id)
        return int(out.shape[1] - batch["input_ids"].shape[1])

    def ours(static: bool) -> int:
        sample_texts(model, tokenizer, prompts, max_new_tokens=settings.new_tokens, temperature=1.0, top_k=50,
                     static_cache=static)
        return settings.new_tokens

    rows = []
    for name, call in (("transformers generate", run_generate), ("ours, growing cache", lambda: ours(False)),
                       ("ours, static cache" + (" + CUDA graph" if settings.device.startswith("cuda") else ""),
                        lambda: ours(True))):
        call()  # warm-up (and compilation)
        _sync(settings)
        start = time.perf_counter()
        new = call()
        _sync(settings)
        seconds = time.perf_counter() - start
        rows.append({"shape": shape, "generator": name, "batch": settings.generation_batch, "new_tokens": new,
                     "seconds": round(seconds, 3), "tokens_per_s": round(settings.generation_batch * new / seconds, 1)})
    base = rows[0]["tokens_per_s"]
    for row in rows:
        row["vs_generate"] = round(row["tokens_per_s"] / base, 2)
    return rows


def _sync(settings: GpuSettings) -> None:
    if settings.device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def run_gpu(settings: GpuSettings) -> dict[str, Any]:
    import torch

    training: list[dict[str, Any]] = []
    generation: list[dict[str, Any]] = []
    for shape in settings.shapes:
        rows = [train_row(shape, mode, settings) for mode in MODES]
        plain = rows[0]
        for row in rows[1:]:
            row["time_vs_non_dp"] = round(plain["tokens_per_s"] / row["tokens_per_s"], 2) if row["tokens_per_s"] else None
            if row["peak_gib"] and plain["peak_gib"]:
                row["memory_vs_non_dp"] = round(row["peak_gib"] / plain["peak_gib"], 2)
        training += rows
        generation += generation_rows(shape, settings)
    cuda = settings.device.startswith("cuda")
    return {"benchmark": "gpu", "machine": machine(), "settings": settings.model_dump(mode="json"),
            "gpu": torch.cuda.get_device_name(0) if cuda else None, "cuda": torch.version.cuda,
            "training": training, "generation": generation,
            "goals": {"dp_time_and_memory_at_most": 1.3, "generation_vs_generate_at_least": 3.0}}


def report(result: dict[str, Any], name: str) -> None:
    print(table(result["training"], ["shape", "mode", "batch", "tokens_per_s", "seconds_per_step", "peak_gib",
                                     "time_vs_non_dp", "memory_vs_non_dp", "precision"]))
    print()
    print(table(result["generation"], ["shape", "generator", "batch", "new_tokens", "tokens_per_s", "vs_generate"]))
    print(f"saved {save(name, result)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = settings_parser(__doc__, benchmark="gpu", quick="tiny shapes on the CPU (the benchmark's own test)")
    args = parser.parse_args(argv)
    name = args.name or ("gpu_quick" if args.quick else "gpu")
    settings = with_overrides(parser, GpuSettings.quick() if args.quick else GpuSettings(), args.settings)
    if settings.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            sys.exit("no CUDA device here: run it on a GPU machine, or --quick for the tiny CPU form")
    report(run_gpu(settings), name)


if __name__ == "__main__":
    main()
