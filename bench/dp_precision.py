"""Which precision should DP training default to? The same DP run (epsilon 8) in fp32, bf16 autocast,
bf16 weights and ``auto`` (what this machine picks) on the bundled clinic records: wall time and held-out
loss of each adapter vs the base model. A precision "still learns" when its held-out loss is within 0.05 of
the fp32 run's; ``auto`` should be within 10% of the fastest precision that still learns.

    .venv/bin/python bench/dp_precision.py [--records 330] [--epochs 2] [--batch 16]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, save, table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--epsilon", type=float, default=8.0)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--precisions", default="fp32,bf16-autocast,bf16,auto")
    args = parser.parse_args()

    import torch

    from client_node.datasets import DatasetStore
    from client_node.datasets.demo import clinic_records
    from client_node.evaluation.heldout import heldout_loss
    from shared.compute import resolve_compute
    from shared.constants import DEFAULT_BASE_MODEL
    from shared.lora import LoraSpec
    from shared.models.loading import load_causal_lm
    from shared.prompts import GenerationTemplate
    from shared.training import PrivateLoraTrainer, TrainConfig

    with tempfile.TemporaryDirectory() as tmp:
        dataset = DatasetStore(Path(tmp)).add(clinic_records(args.records), name="clinic",
                                               task="clinic patient questions and answers", holdout_fraction=30 / args.records)
    template = GenerationTemplate.for_task(dataset.task)
    lora = LoraSpec(r=8, alpha=16, target_modules=("q_proj", "v_proj"))
    base = load_causal_lm(DEFAULT_BASE_MODEL)
    rows = [{"precision": "base model", "heldout_loss": heldout_loss(base.model, base.tokenizer, template, dataset.holdout_records)}]
    del base
    for precision in args.precisions.split(","):
        loaded = load_causal_lm(DEFAULT_BASE_MODEL)
        config = TrainConfig(epsilon=args.epsilon, epochs=args.epochs, batch_size=args.batch, learning_rate=args.lr,
                             lora=lora, max_length=160, precision=precision, seed=0)
        start = time.perf_counter()
        result = PrivateLoraTrainer(config=config, progress=False).train(
            model=loaded.model, tokenizer=loaded.tokenizer, records=dataset.train_records, template=template)
        seconds = time.perf_counter() - start
        # Evaluate every adapter the same way: merged into a float32 base.
        model = result.model.to(dtype=torch.float32).merge_and_unload()
        loss = heldout_loss(model, loaded.tokenizer, template, dataset.holdout_records)
        rows.append({"precision": precision, "resolved": resolve_compute("cpu", precision).precision.value,
                     "epsilon": result.certificate.epsilon, "steps": result.certificate.steps,
                     "train_s": seconds, "s_per_step": seconds / result.certificate.steps, "heldout_loss": loss})
        print(f"{precision}: {seconds:.0f} s, held-out loss {loss:.3f}", flush=True)
        del loaded, model, result
    print()
    fp32 = next(r["heldout_loss"] for r in rows if r["precision"] == "fp32")
    trained = [r for r in rows if "train_s" in r]
    for r in trained:
        r["learns"] = abs(r["heldout_loss"] - fp32) <= 0.05
    fastest = min(r["s_per_step"] for r in trained if r["learns"] and r["precision"] != "auto")
    for r in trained:
        r["x_fastest_learning"] = r["s_per_step"] / fastest
    print(table(rows, ["precision", "resolved", "epsilon", "steps", "train_s", "s_per_step", "heldout_loss", "learns",
                       "x_fastest_learning"]))
    auto = next((r for r in trained if r["precision"] == "auto"), None)
    verdict = None
    if auto is not None:
        verdict = {"auto_is": auto["resolved"], "auto_learns": auto["learns"],
                   "auto_x_fastest_learning": auto["x_fastest_learning"],
                   "goal_met": bool(auto["learns"] and auto["x_fastest_learning"] <= 1.10)}
        print(f"\nauto picked {auto['resolved']}: {auto['x_fastest_learning']:.2f}x the fastest precision that still "
              f"learns; goal (<= 1.10x) {'met' if verdict['goal_met'] else 'NOT met'}")
    path = save("dp_precision", {"benchmark": "dp_precision", "machine": machine(), "verdict": verdict,
                                 "settings": {**vars(args), "lora": lora.model_dump(mode="json"), "max_length": 192,
                                              "train_records": len(dataset.train_records), "heldout_records": len(dataset.holdout_records)},
                                 "rows": [{k: (v if not (isinstance(v, float) and math.isinf(v)) else "inf") for k, v in r.items()} for r in rows]})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
