"""Where the knowledge adapter should start: fresh LoRA on the base (as built) or the client's DP adapter
refined further on the graded samples. Reuses a quality run's artifacts (its DP adapter, samples and
grades under ``.cache/bench/<source>/``), so only the knowledge adapters are trained; each is measured
against that DP adapter as ``bench.quality`` does (held-out loss of the text given its conditions, and the
expert judge's pairwise preference in both orders).

Run:  python -m bench.knowledge [--source quality] [--epsilons 8 inf] [--settings '{"knowledge_lr": 3e-4}']
      (after python -m bench.quality; --settings changes only how the knowledge adapters train)
Writes bench/results/knowledge.json and prints the table.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine, save, table, wheels_dir_of, with_overrides
from bench.quality import Bench, QualitySettings, artifacts_of, eps_label, kept_by_grades, stored_samples
from server_node.pipeline.choices import KnowledgeStart
from shared.adapters import decode_adapter


def run(settings: QualitySettings, folder: Path, epsilons: list[float], *, wheels_dir: Path,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Both starts at each epsilon, from the quality run whose artifacts are in ``folder``."""
    started = time.perf_counter()
    bench = Bench(settings, wheels_dir=wheels_dir, log=log)
    rows = []
    for epsilon in epsilons:
        label = f"eps={eps_label(epsilon)}"
        adapter = decode_adapter((folder / f"adapter-{label}.safetensors").read_bytes())
        kept = kept_by_grades(*stored_samples(folder, label), settings)
        dp = bench.subject(f"adapter {label}", adapter)
        for start in KnowledgeStart:
            knowledge = bench.subject(f"knowledge {label} from {start}",
                                      bench.knowledge_adapter(adapter, kept, f"{label} from {start}", start=start))
            promise = bench.knowledge_promise(dp, knowledge)
            loss, wins = promise["heldout_loss"], promise["win_rate_vs_dp"]
            rows.append({"epsilon": eps_label(epsilon), "start": start.value, "kept samples": len(kept),
                         "loss knowledge": round(loss["knowledge"], 3), "loss dp": round(loss["dp"], 3),
                         "loss base": round(loss["base"], 3), "win rate vs dp": wins.get("win_rate"),
                         "wins/losses/ties": f"{wins.get('wins')}/{wins.get('losses')}/{wins.get('ties')}",
                         "promise": promise})
    return {"settings": settings.model_dump(mode="json"), "machine": machine(), "rows": rows,
            "timings": bench.timings, "total_seconds": round(time.perf_counter() - started, 1)}


KNOWLEDGE_SETTINGS = ("knowledge_epochs", "knowledge_batch", "knowledge_lr")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="quality", help="the quality run whose artifacts to reuse")
    parser.add_argument("--epsilons", nargs="+", type=float, default=[8.0])
    parser.add_argument("--name", default="knowledge")
    parser.add_argument("--wheels-dir", type=Path, default=None)
    parser.add_argument("--settings", type=json.loads, default={},
                        help='the knowledge adapter\'s settings over the source run\'s, e.g. \'{"knowledge_lr": 3e-4}\'')
    args = parser.parse_args(argv)
    wheels = wheels_dir_of(args)
    source = QualitySettings.model_validate(json.loads((RESULTS / f"{args.source}.json").read_text())["settings"])
    # only the knowledge adapter's settings: anything else would no longer match the source run's adapters and samples
    settings = with_overrides(parser, source, args.settings, allowed=KNOWLEDGE_SETTINGS)
    epsilons = [e if math.isfinite(e) else math.inf for e in args.epsilons]
    result = run(settings, artifacts_of(args.source), epsilons, wheels_dir=wheels)
    result.update(source=args.source, overrides=args.settings, command="python -m bench.knowledge --source "
                  + args.source + " --epsilons " + " ".join(map(eps_label, epsilons))
                  + (f" --settings '{json.dumps(args.settings)}'" if args.settings else ""))
    print(table(result["rows"], ["epsilon", "start", "kept samples", "loss knowledge", "loss dp", "loss base",
                                 "win rate vs dp", "wins/losses/ties"]))
    print(f"saved {save(args.name, result)}")


if __name__ == "__main__":
    main()
