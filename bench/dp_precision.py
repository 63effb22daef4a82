"""Which precision should DP training default to? The same DP run (epsilon 8) in fp32, bf16 autocast and
bf16 weights on the bundled clinic records: wall time and held-out loss of each adapter vs the base model.

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
    parser.add_argument("--precisions", default="fp32,bf16-autocast,bf16")
    args = parser.parse_args()

    import torch

    from client_node.datasets import DatasetStore
    from client_node.datasets.demo import clinic_records
    from client_node.evaluation.heldout import heldout_loss
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
        rows.append({"precision": precision, "epsilon": result.certificate.epsilon, "steps": result.certificate.steps,
                     "train_s": seconds, "s_per_step": seconds / result.certificate.steps, "heldout_loss": loss})
        print(f"{precision}: {seconds:.0f} s, held-out loss {loss:.3f}", flush=True)
        del loaded, model, result
    print()
    print(table(rows, ["precision", "epsilon", "steps", "train_s", "s_per_step", "heldout_loss"]))
    path = save("dp_precision", {"benchmark": "dp_precision", "machine": machine(),
                                 "settings": {**vars(args), "lora": lora.model_dump(mode="json"), "max_length": 192,
                                              "train_records": len(dataset.train_records), "heldout_records": len(dataset.holdout_records)},
                                 "rows": [{k: (v if not (isinstance(v, float) and math.isinf(v)) else "inf") for k, v in r.items()} for r in rows]})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
