"""Wall time of each stage of the demo pipeline (both services as processes, real bundled models).

Stages: DP training, upload, the server's generate / grade / rewrite / knowledge-adapter training,
download (with verification), local evaluation; and the total from starting the services to the
report. Goal: total <= 10 minutes on 2 cores with the models prepared.
Run:  python -m bench.end_to_end [--records N --n-samples N ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import machine, save, table
from client_node.demo import DemoSettings, run_demo

STAGES = [("DP training (client)", "training"), ("upload", "uploading"), ("generate (server)", "server generating"),
          ("grade (server)", "server grading"), ("rewrite (server)", "server rewriting"),
          ("train knowledge adapter (server)", "server training"), ("server job, all stages + polling", "server"),
          ("download + verify", "downloading"), ("evaluate (client)", "evaluating")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    defaults = DemoSettings()
    parser.add_argument("--records", type=int, default=defaults.records)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--n-samples", type=int, default=defaults.n_samples)
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    parser.add_argument("--lora-targets", default=",".join(defaults.lora_targets),
                        help="'default': a default client run's (all linear layers)")
    parser.add_argument("--name", default="end_to_end")
    args = parser.parse_args()
    from shared.lora import DEFAULT_TARGET_MODULES

    targets = DEFAULT_TARGET_MODULES if args.lora_targets == "default" else tuple(args.lora_targets.split(","))
    settings = DemoSettings(records=args.records, epochs=args.epochs, n_samples=args.n_samples,
                            max_new_tokens=args.max_new_tokens, lora_targets=targets)
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_demo(Path(tmp), settings)
    timings = summary["timings"]
    rows = [{"stage": label, "seconds": timings.get(key)} for label, key in STAGES]
    rows.append({"stage": "total (services up -> report)", "seconds": summary["total_seconds"]})
    print(table(rows, ["stage", "seconds"]))
    print(f"peak RSS: client {summary['peak_rss_mib']['client']:.0f} MiB, server {summary['peak_rss_mib']['server']:.0f} MiB; "
          f"compute: {summary['compute']}")
    print(f"state {summary['state']}; epsilon {summary['epsilon_spent']}; samples {summary['samples']}; "
          f"canaries leaked {len(summary['canaries_leaked_in_samples'])}/{summary['canaries_planted']}")
    print(f"saved {save(args.name, {'machine': machine(), 'settings': settings.__dict__, 'rows': rows, 'summary': summary})}")


if __name__ == "__main__":
    main()
