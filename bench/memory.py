"""Peak memory and step time of a default client DP training run, per precision and tokens per pass.

A default ``client-node run`` trains SmolLM2-135M with LoRA r8 on all linear layers, expected batch 16,
examples up to 256 tokens, under DP-SGD (opacus hooks). Its memory grows with the tokens of one forward/
backward pass (activations kept for backward plus opacus' hooks); ``max_tokens_per_pass`` cuts each Poisson
batch into passes of at most that many padded tokens (same step, same clipped sum, same guarantee). Each
configuration runs in a fresh process so its peak RSS is its own.

    privsynth-bench memory [--records 64] [--configs auto:1024,fp32:none,...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, save, table  # noqa: E402

DEFAULT_CONFIGS = "fp32:none,fp32:1024,auto:none,auto:2048,auto:1024,auto:512"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(precision: str, tokens: int | None, records: int) -> dict:
    """One DP training run with the client's default run settings (run in a fresh process)."""
    import torch

    from client_node.datasets.demo import clinic_records
    from client_node.runs.schemas import RunCreateRequest
    from shared.compute import resolve_compute
    from shared.constants import DEFAULT_BASE_MODEL
    from shared.lora import LoraSpec
    from shared.models.loading import load_for
    from shared.prompts import GenerationTemplate
    from shared.training import PrivateLoraTrainer, TrainConfig

    torch.set_num_threads(2)
    defaults = RunCreateRequest(dataset_id="x")
    compute = resolve_compute("cpu", precision)
    rss_start = _rss_mib()
    loaded = load_for(DEFAULT_BASE_MODEL, compute)
    rss_loaded = _rss_mib()
    config = TrainConfig(epsilon=defaults.epsilon, epochs=1, batch_size=defaults.batch_size,
                         learning_rate=defaults.learning_rate, max_length=defaults.max_length_for(table=False),
                         lora=LoraSpec(r=defaults.lora_rank, alpha=2.0 * defaults.lora_rank,
                                       target_modules=tuple(defaults.lora_targets)),
                         device=compute.device, precision=compute.precision, max_tokens_per_pass=tokens)
    start = time.perf_counter()
    result = PrivateLoraTrainer(config=config, progress=False).train(
        model=loaded.model, tokenizer=loaded.tokenizer, records=clinic_records(records, seed=7),
        template=GenerationTemplate.for_task("patient questions to a clinic and the clinic's answers"))
    seconds = time.perf_counter() - start
    return {"precision": compute.precision.value, "requested": precision, "tokens_per_pass": tokens,
            "steps": result.plan.steps, "s_per_step": seconds / result.plan.steps, "final_loss": result.losses[-1],
            "rss_start_mib": rss_start, "rss_loaded_mib": rss_loaded, "peak_rss_mib": _rss_mib(),
            "compute": compute.as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=64, help="clinic records (steps = records / 16)")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="precision:tokens_per_pass pairs ('none': whole batch, "
                                                                   "'auto': the default for the precision)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--name", default="memory")
    args = parser.parse_args()
    if args.one:
        precision, tokens = args.one.split(":")
        print(json.dumps(one(precision, {"none": 0, "auto": None}.get(tokens) if tokens in ("none", "auto") else int(tokens),
                             args.records)))
        return
    rows = []
    for pair in args.configs.split(","):
        out = subprocess.run([sys.executable, __file__, "--one", pair, "--records", str(args.records)],
                             capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{pair:<12} {row['precision']:<6} {row['s_per_step']:.1f} s/step, peak {row['peak_rss_mib']:.0f} MiB",
              flush=True)
    fastest = min(r["s_per_step"] for r in rows)
    for r in rows:
        r["x_fastest"] = r["s_per_step"] / fastest
        r["peak_gib"] = r["peak_rss_mib"] / 1024
    print(table(rows, ["requested", "precision", "tokens_per_pass", "steps", "s_per_step", "x_fastest", "peak_gib",
                       "rss_loaded_mib", "final_loss"]))
    info = machine()
    path = save(args.name, {"benchmark": "memory", "machine": info, "cpu_class": rows[0]["compute"]["cpu_class"],
                            "settings": {"records": args.records, "configs": args.configs,
                                         "run_defaults": "RunCreateRequest: batch 16, max_length 256, LoRA r8 all linear, eps 8"},
                            "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
