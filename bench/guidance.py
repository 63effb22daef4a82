"""Condition guidance at sampling: does steering each sample away from the other label make DP samples
more useful? Reuses a quality run's artifacts (its DP adapter, its unguided samples and grades under
``.cache/bench/<source>/``); generates guided samples from the same DP adapter and from the base model
(the control: guidance must not be what closes the gap on its own), grades them with the same expert and
measures TSTR as ``bench.quality`` does. The unguided rows are re-measured in the same run from the stored
samples and grades, so every ratio compares like with like. Guidance is the server's post-processing of
the DP adapter: the privacy cost is the source run's, unchanged.

Run:  python -m bench.guidance [--source quality] [--epsilon 8] [--guidance 1.0] [--subjects dp base] [--name guidance]
      (after python -m bench.quality with the same source name, on a machine that kept its artifacts)
Writes bench/results/<name>.json after each group (a rerun with the same arguments keeps those done).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine, save, table, wheels_dir_of
from bench.quality import Bench, QualitySettings, artifacts_of, eps_label, kept_by_grades, stored_samples
from shared.adapters import decode_adapter

SUBJECTS = ("dp", "base")
COLUMNS = ["subject", "guidance", "stage", "samples", "auc", "auc se", "accuracy", "macro_f1", "condition score",
           "generate s"]


def measured_rows(bench: Bench, subject: str, guidance: float, samples: list[dict[str, Any]],
                  grades: list[dict[str, Any]], kept: list[dict[str, Any]], seconds: float | None) -> list[dict[str, Any]]:
    """The raw and the graded row of one subject at one guidance; the raw row carries the expert's mean
    probability of the requested label over every sample."""
    condition = [g["criteria"]["condition"] for g in grades if "condition" in g["criteria"]]
    mean_condition = round(sum(condition) / len(condition), 4) if condition else None
    return [{"subject": subject, "guidance": guidance, "stage": "raw", **bench.tstr(samples),
             "condition score": mean_condition, "generate s": seconds},
            {"subject": subject, "guidance": guidance, "stage": "graded", **bench.tstr(kept), "generate s": seconds}]


def run(settings: QualitySettings, source: dict[str, Any], folder: Path, epsilon: float, guidance: float, *,
        wheels_dir: Path, name: str, done: dict[str, Any], subjects: Sequence[str] = SUBJECTS,
        log: Callable[[str], None] = print,
        save_group: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Unguided (stored) and guided rows for the DP adapter at ``epsilon`` and (the control) the base model,
    from the quality run ``source`` (its results) whose artifacts are in ``folder``."""
    started = time.perf_counter()
    guided_settings = settings.model_copy(update={"guidance": guidance})
    bench = Bench(guided_settings, wheels_dir=wheels_dir, log=log, artifacts=artifacts_of(name))
    dp_label = f"eps={eps_label(epsilon)}"
    plans = {"dp": (f"DP {dp_label}", dp_label, source["groups"][dp_label]["certificate"]["condition_counts"]),
             "base": ("base prompted", "base prompted", None)}
    groups = dict(done)
    for subject, label, counts in (plans[s] for s in subjects):
        key = f"{subject} guidance={guidance:g}"
        if key in groups:
            log(f"{key}: kept from the previous call")
            continue
        samples, grades = stored_samples(folder, label)
        rows = measured_rows(bench, subject, 0.0, samples, grades, kept_by_grades(samples, grades, settings),
                             source["timings"].get(f"generate {label}"))
        writer = bench.base_subject if counts is None else bench.subject(
            f"adapter {dp_label}", decode_adapter((folder / f"adapter-{dp_label}.safetensors").read_bytes()))
        guided_label = f"{label} guidance={guidance:g}"
        new = bench.generate(writer, guided_label, counts)
        new_kept, new_grades = bench.grade(new, guided_label)
        rows += measured_rows(bench, subject, guidance, new, new_grades, new_kept, bench.timings[f"generate {guided_label}"])
        groups[key] = {"rows": rows, "timings": {k: v for k, v in bench.timings.items() if guided_label in k}}
        if save_group is not None:
            save_group(groups)
    return {"settings": guided_settings.model_dump(mode="json"), "machine": machine(), "groups": groups,
            "source_machine": source.get("machine"), "total_seconds": round(time.perf_counter() - started, 1)}


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for group in result["groups"].values():
        for r in group["rows"]:
            tstr = r.get("tstr") or {}
            out.append({**{k: r.get(k) for k in COLUMNS}, "auc": tstr.get("auc"), "auc se": (tstr.get("se") or {}).get("auc"),
                        "accuracy": tstr.get("accuracy"), "macro_f1": tstr.get("macro_f1")})
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="quality", help="the quality run whose adapter and samples to reuse")
    parser.add_argument("--epsilon", type=float, default=8.0)
    parser.add_argument("--guidance", type=float, default=1.0, help="the guidance factor w (0: off)")
    parser.add_argument("--subjects", nargs="+", choices=SUBJECTS, default=list(SUBJECTS),
                        help="the DP adapter, the base model (the control), or both")
    parser.add_argument("--name", default="guidance")
    parser.add_argument("--wheels-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    folder = artifacts_of(args.source)
    needed = [RESULTS / f"{args.source}.json", folder / f"adapter-eps={eps_label(args.epsilon)}.safetensors"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        parser.error(f"no quality run {args.source!r} with its artifacts here (missing {', '.join(missing)}); run "
                     f"python -m bench.quality --name {args.source} on this machine first")
    source = json.loads((RESULTS / f"{args.source}.json").read_text())
    settings = QualitySettings.model_validate(source["settings"])
    command = (f"python -m bench.guidance --source {args.source} --epsilon {eps_label(args.epsilon)} "
               f"--guidance {args.guidance:g} --subjects {' '.join(args.subjects)} --name {args.name}")
    previous = RESULTS / f"{args.name}.json"
    done = {}
    if previous.exists():
        old = json.loads(previous.read_text())
        if old.get("command") == command:
            done = old.get("groups", {})

    def save_group(groups: dict[str, Any]) -> None:
        save(args.name, {"command": command, "source": args.source, "machine": machine(), "groups": groups})

    result = run(settings, source, folder, args.epsilon, args.guidance, wheels_dir=wheels_dir_of(args),
                 name=args.name, done=done, subjects=args.subjects, save_group=save_group)
    result.update(command=command, source=args.source)
    print(table(table_rows(result), COLUMNS))
    print(f"saved {save(args.name, result)}")


if __name__ == "__main__":
    main()
