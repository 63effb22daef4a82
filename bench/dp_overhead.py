"""DP-SGD (opacus hooks) vs non-DP LoRA training steps on SmolLM2-135M, in fp32, bf16 and what ``auto`` picks.

Same model, same batches (B sequences of exactly T tokens), same LoRA. Each configuration runs in its
own process so peak memory is its own. Reports the median seconds per step and peak RSS, and the
DP/non-DP ratios in the same precision.

    .venv/bin/python bench/dp_overhead.py [--batch 8] [--seq 128] [--steps 5] [--warmup 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, save, table  # noqa: E402

CONFIGS = [("fp32", False), ("fp32", True), ("bf16-autocast", False), ("bf16-autocast", True), ("bf16", False), ("bf16", True),
           ("auto", False), ("auto", True)]


def one(precision: str, dp: bool, batch: int, seq: int, steps: int, warmup: int, targets: list[str]) -> dict:
    """Time ``steps`` training steps of one configuration (run in a fresh process)."""
    import contextlib

    import torch
    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    from shared.adapters.peft_io import attach_lora
    from shared.compute import resolve_compute
    from shared.constants import DEFAULT_BASE_MODEL
    from shared.lora import LoraSpec
    from shared.models.loading import load_causal_lm
    from shared.training.loss import per_sequence_loss

    requested = precision
    precision = resolve_compute("cpu", precision).precision.value  # "auto": what this machine picks
    torch.manual_seed(0)
    loaded = load_causal_lm(DEFAULT_BASE_MODEL, dtype="bfloat16" if precision == "bf16" else "float32")
    rss_loaded = _rss_mib()
    model = loaded.model
    for p in model.parameters():
        p.requires_grad_(False)
    model = attach_lora(model, LoraSpec(r=8, alpha=16, target_modules=tuple(targets)))
    ids = torch.randint(10, loaded.tokenizer.vocab_size, ((steps + warmup) * batch, seq), generator=torch.Generator().manual_seed(1))
    loader = DataLoader(TensorDataset(ids), batch_size=batch, shuffle=False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    trained = model
    if dp:
        engine = PrivacyEngine(accountant="rdp")
        trained, optimizer, loader = engine.make_private(module=model, optimizer=optimizer, data_loader=loader,
                                                         noise_multiplier=1.0, max_grad_norm=1.0,
                                                         poisson_sampling=False, grad_sample_mode="hooks")
    def autocast() -> contextlib.AbstractContextManager[object]:
        return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16-autocast" else contextlib.nullcontext()

    times = []
    trained.train()
    for (x,) in loader:
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast():  # the forward only; backward and the DP optimizer step run outside it
            logits = trained(input_ids=x, attention_mask=torch.ones_like(x)).logits
            loss = per_sequence_loss(logits, x).mean()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    measured = times[warmup:]
    return {"precision": requested, "resolved": precision, "dp": dp, "median_s": statistics.median(measured), "min_s": min(measured),
            "steps": len(measured), "peak_rss_mib": _peak_mib(), "rss_after_load_mib": rss_loaded,
            "train_peak_above_load_mib": _peak_mib() - rss_loaded, "trainable_params": sum(p.numel() for p in params)}


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--targets", default="q_proj,v_proj")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    targets = args.targets.split(",")
    if args.one:
        precision, dp = args.one.split(":")
        print(json.dumps(one(precision, dp == "dp", args.batch, args.seq, args.steps, args.warmup, targets)))
        return
    rows = []
    for precision, dp in CONFIGS:
        cmd = [sys.executable, __file__, "--one", f"{precision}:{'dp' if dp else 'plain'}", "--batch", str(args.batch),
               "--seq", str(args.seq), "--steps", str(args.steps), "--warmup", str(args.warmup), "--targets", args.targets]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{precision:<14} {'DP' if dp else 'non-DP':<7} {row['median_s']:.2f} s/step, peak {row['peak_rss_mib']:.0f} MiB", flush=True)
    by = {(r["precision"], r["dp"]): r for r in rows}
    ratios = []
    for precision in dict.fromkeys(p for p, _ in CONFIGS):
        dp_row, plain = by[(precision, True)], by[(precision, False)]
        ratios.append({"precision": precision, "non_dp_s": plain["median_s"], "dp_s": dp_row["median_s"],
                       "time_ratio": dp_row["median_s"] / plain["median_s"],
                       "peak_ratio": dp_row["peak_rss_mib"] / plain["peak_rss_mib"],
                       "train_mem_ratio": dp_row["train_peak_above_load_mib"] / max(1.0, plain["train_peak_above_load_mib"]),
                       "dp_vs_fp32_dp": dp_row["median_s"] / by[("fp32", True)]["median_s"]})
    print()
    fastest = min(r["dp_s"] for r in ratios)
    for r in ratios:
        r["dp_x_fastest"] = r["dp_s"] / fastest
    auto = next(r for r in ratios if r["precision"] == "auto")
    print(table(ratios, ["precision", "non_dp_s", "dp_s", "time_ratio", "peak_ratio", "train_mem_ratio", "dp_vs_fp32_dp",
                         "dp_x_fastest"]))
    print(f"auto ({by[('auto', True)]['resolved']}) DP step {auto['dp_x_fastest']:.2f}x the fastest precision's")
    path = save("dp_overhead", {"benchmark": "dp_overhead", "machine": machine(),
                                "settings": {"model": "smollm2-135m-instruct", "batch": args.batch, "seq": args.seq,
                                             "lora": {"r": 8, "alpha": 16, "targets": targets}, "steps": args.steps,
                                             "warmup": args.warmup, "grad_sample_mode": "hooks", "optimizer": "AdamW"},
                                "goals": {"time_ratio_max": 1.15, "memory_ratio_max": 1.2},
                                "rows": rows, "ratios": ratios})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
