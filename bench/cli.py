"""`privsynth-bench NAME [options]`: run one benchmark by name (each is also `python -m bench.NAME`)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "quality": "utility and privacy of every row of the KnowledgeSG-style table (--quick for a CI-sized run)",
    "knowledge": "the knowledge adapter from fresh LoRA or from the DP adapter, on a quality run's kept samples",
    "guidance": "condition guidance at sampling, on a quality run's DP adapter and the base model (the control)",
    "tabular": "HARMONIC-style DP synthesis of German credit and Adult: TSTR, DCR, copies, DLT, fidelity",
    "end_to_end": "stage timings of the demo pipeline through both services",
    "server_generation": "the server's generation against plain batched and one-at-a-time generate",
    "expert_grading": "grading AUC of the expert models and methods",
    "dp_overhead": "DP vs non-DP training step time and memory",
    "dp_precision": "held-out loss and time of DP adapters per precision (and what auto picks)",
    "memory": "peak RSS and step time of a default client DP run per precision and tokens per pass",
    "backends": "the same server jobs in-process and through a vLLM engine at 1, 4 and 8 concurrent jobs",
    "load": "8 tenants at once against one server: no 5xx, no leaks across tenants, /healthz p99",
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHMARKS:
        print("usage: privsynth-bench NAME [options]\n\nbenchmarks:")
        for name, what in BENCHMARKS.items():
            print(f"  {name:18} {what}")
        sys.exit(0 if len(sys.argv) < 2 or sys.argv[1] in {"-h", "--help"} else 2)
    name = sys.argv[1]
    sys.argv = [f"privsynth-bench {name}", *sys.argv[2:]]
    importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
