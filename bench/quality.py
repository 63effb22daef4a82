"""Quality benchmark with controls: conditional synthesis of labelled reviews, and whether the gain comes from
the private data.

Private data: balanced review sentiment from Women's E-Commerce Clothing Reviews (5 stars = positive, 1-2
stars = negative), each review a text record with two declared conditions, its label and its item kind
(``bench.reviews``), and canaries (fake card numbers planted 1 to 64 times) and fake identities planted in
the private training split. The client's code trains (the condition counts released in the same run as
DP-SGD), the server's pipeline functions generate per condition, grade against the given label and train
the knowledge adapter; every adapter crosses the codec as on the wire; only the HTTP hops are left out.

Rows (each sample written for a condition, TSTR on the label it was written for, tested on real reviews):
base model prompted with the condition (no private data); the same + the expert's grading (the expert's
public knowledge alone: the pipeline must beat it, or its gain is not the private data's); at each epsilon
the DP adapter's raw samples and the full pipeline (graded samples), epsilon inf being non-private
fine-tuning; train-on-real. Primary measure ROC AUC, with accuracy and macro-F1, standard errors by
bootstrap over the test reviews. The KnowledgeSG promise: the knowledge adapter (trained on the graded
samples) against the client's own DP adapter on the client's held-out records, by loss (the text given
its conditions) and by the expert's pairwise judgement in both orders. Attacks with teeth: canary
extraction and exposure per repeat count, the loss attack raw and calibrated by the base model's loss.

Run:  python -m bench.quality [--quick] [--settings JSON]   (or: privsynth-bench quality ...)
Writes bench/results/quality.json (or quality_quick.json) and an HTML report beside it; saved after each
group of rows, and a rerun with the same settings skips the groups already measured (resumable).
"""

from __future__ import annotations

import gc
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from bench.common import RESULTS, machine, save, settings_parser, table, wheels_dir_of, with_overrides
from bench.reviews import CONDITIONS, DOMAIN, TASK_DESCRIPTION, ReviewTask, build_review_task
from client_node.datasets.store import StoredDataset
from client_node.evaluation.heldout import per_record_losses
from client_node.evaluation.privacy.canaries import exposure, extracted, leaked_in_texts
from client_node.evaluation.privacy.dcr import closest_distances, summarize
from client_node.evaluation.privacy.membership import calibrated_auc, loss_threshold_auc
from client_node.evaluation.privacy.pii import pii_reconstruction
from client_node.evaluation.subjects import Subject
from client_node.evaluation.utility.judge import pairwise_preferences, win_rate
from client_node.evaluation.utility.tstr import classifier_scores
from client_node.ledger import PrivacyLedger, make_engine
from client_node.runs.runner import condition_shares
from client_node.training.private_run import run_private_training
from server_node.inference import LocalTextModel
from server_node.jobs.checks import wanted_per_condition
from server_node.pipeline.choices import KnowledgeStart
from server_node.pipeline.distill import train_knowledge_adapter
from server_node.pipeline.generate import generate_samples
from server_node.pipeline.grade import Grade, LabelCalibration, grade_samples, passes
from shared.adapters import decode_adapter
from shared.adapters.codec import DecodedAdapter
from shared.adapters.peft_io import load_lora
from shared.compute import resolve_compute
from shared.conditions import count_by_condition
from shared.config import ModelSettings
from shared.lora import DEFAULT_TARGET_MODULES, LoraSpec
from shared.models.embedding import SentenceEmbedder
from shared.models.loading import LoadedModel, load_causal_lm, load_for, signature_of
from shared.models.resolve import ResolvedModel, resolve_model
from shared.prompts import GenerationTemplate, RecordFormat
from shared.protocol import JobCreateRequest, SamplingParams, TaskSpec
from shared.records import records_sha256
from shared.training import TrainConfig
from shared.training.config import default_delta
from shared.training.examples import tokenize_examples

INF = float("inf")
REVIEW_TEMPLATE = GenerationTemplate.for_task(TASK_DESCRIPTION, record_format=RecordFormat.TEXT, conditions=CONDITIONS)
BASE, BASE_GRADED, RAW, PIPELINE, REAL = ("base prompted", "base prompted + grading", "DP raw",
                                          "full pipeline (DP + grading)", "train on real")


class QualitySettings(BaseModel):
    """Everything that sets the benchmark's size; recorded in the results."""

    model_config = ConfigDict(frozen=True)

    n_train: int = 1000
    n_holdout: int = 200
    n_test: int = 1000
    canary_repeats: tuple[int, ...] = (1, 4, 16, 64)
    pii_records: int = 10
    epsilons: tuple[float, ...] = (8.0, INF)
    epochs: int = 2
    nonprivate_epochs: int = 4  # the non-private row trains longer: the attacks' positive control
    batch_size: int = 32  # expected batch (Poisson) for DP; the same batch size without DP
    learning_rate: float = 3e-3
    lora_targets: tuple[str, ...] = DEFAULT_TARGET_MODULES
    lora_rank: int = 8
    max_length: int = 128  # the prompt takes 52 tokens: at 96 every earlier canary's secret and 79% of reviews were cut
    condition_noise: float = 10.0
    condition_floor: float = JobCreateRequest.model_fields["condition_floor"].default
    n_samples: int = 500
    max_new_tokens: int = 80
    temperature: float = 0.8
    guidance: float = 0.0  # condition guidance at sampling (server-side post-processing; bench.guidance sweeps it)
    generation_batch: int = 16
    min_grade: float = JobCreateRequest.model_fields["min_grade"].default
    min_condition: float = JobCreateRequest.model_fields["min_condition"].default
    label_calibration: LabelCalibration = LabelCalibration.BATCH
    bootstrap: int = 200
    knowledge_epochs: int = 2
    knowledge_batch: int = 16
    knowledge_lr: float = 1e-3
    knowledge_start: KnowledgeStart = KnowledgeStart.BASE  # fresh LoRA, or the DP adapter refined further
    judge_records: int = 40  # held-out records whose conditions both adapters write for, judged pairwise
    write_tokens: int = 64
    exposure_candidates: int = 127
    mia_members: int = 200
    base_model: str = "smollm2-135m-instruct"
    expert_model: str = "gemma3-270m"
    embedder: str = "all-minilm-l6-v2"
    seed: int = 0

    @classmethod
    def quick(cls) -> QualitySettings:
        """CI-sized: minutes, not hours; figures are noisy at this size."""
        return cls(n_train=160, n_holdout=40, n_test=200, canary_repeats=(1, 16), pii_records=4, epochs=1,
                   nonprivate_epochs=2, batch_size=16, n_samples=32, max_new_tokens=48, bootstrap=50,
                   knowledge_epochs=1, judge_records=8, write_tokens=32, exposure_candidates=31, mia_members=40)


class Bench:
    """The models and data of one benchmark run; each method is one step of the table."""

    def __init__(self, settings: QualitySettings, *, wheels_dir: Path, log: Callable[[str], None] = print,
                 artifacts: Path | None = None) -> None:
        self.s = settings
        self.log = log
        self.artifacts = artifacts  # where each group's adapter and samples are kept, for later experiments
        self.timings: dict[str, float] = {}
        self.task: ReviewTask = review_task(settings, wheels_dir)
        # the client's dataset: the training records (a canary once per repeat) and the task's held-out records
        records = (*self.task.train, *self.task.holdout)
        self.dataset = StoredDataset(
            dataset_id="reviews", name="reviews", task=TASK_DESCRIPTION, sha256=records_sha256(list(records)),
            records=records, holdout_indices=tuple(range(len(self.task.train), len(records))), created_at="",
            conditions=CONDITIONS)
        self.base: ResolvedModel = resolve_model(settings.base_model)
        self.signature = signature_of(self.base)
        self.expert: LoadedModel = load_for(resolve_model(settings.expert_model), resolve_compute())
        self.embedder = SentenceEmbedder.load(resolve_model(settings.embedder))
        self.template = REVIEW_TEMPLATE
        self.sampling = SamplingParams(temperature=settings.temperature, max_new_tokens=settings.max_new_tokens,
                                       guidance=settings.guidance)
        rng = random.Random(settings.seed + 1)
        holdout = self.dataset.holdout_records
        self.judge_records = rng.sample(holdout, min(settings.judge_records, len(holdout)))
        unique = list(dict.fromkeys(r for r in self.dataset.train_records
                                    if not any(r == c.record for c in self.task.canaries)))
        self.members = rng.sample(unique, min(settings.mia_members, len(unique), len(holdout)))
        self.nonmembers = holdout[: len(self.members)]
        self.private_vectors = self.embedder.embed([r.text for r in self.task.train])
        self.holdout_dcr = closest_distances(self.embedder.embed([r.text for r in holdout]), self.private_vectors)
        self.base_subject = base = self.subject("base model", None)  # the reference losses, and the base rows
        self.cut_examples = check_canaries_fit(base.tokenizer, self.template, self.task, settings.max_length)
        self.base_losses = {"members": self.losses(base, self.members), "nonmembers": self.losses(base, self.nonmembers),
                            "holdout": self.losses(base, holdout)}

    # --- steps --------------------------------------------------------------------------------------

    def keep(self, name: str, payload: bytes | list[dict[str, Any]]) -> None:
        """Write a group's adapter (bytes) or samples (JSON lines) under ``artifacts``, if set."""
        if self.artifacts is None:
            return
        self.artifacts.mkdir(parents=True, exist_ok=True)
        data = payload if isinstance(payload, bytes) else "".join(json.dumps(x) + "\n" for x in payload).encode()
        (self.artifacts / name).write_bytes(data)

    def timed(self, name: str) -> _Timer:
        return _Timer(self.timings, name, self.log)

    def subject(self, name: str, adapter: DecodedAdapter | None) -> Subject:
        loaded = load_causal_lm(self.base)
        model = load_lora(loaded.model, adapter).merge_and_unload() if adapter is not None else loaded.model
        model.eval()
        return Subject(name, model, loaded.tokenizer, self.template)

    @property
    def lora(self) -> LoraSpec:
        return LoraSpec(r=self.s.lora_rank, alpha=2.0 * self.s.lora_rank, target_modules=self.s.lora_targets)

    def train_client_adapter(self, epsilon: float) -> tuple[DecodedAdapter, dict[str, Any]]:
        """The client's run: condition counts and DP-LoRA in one ledger run (plain LoRA at inf, longer)."""
        s = self.s
        private = math.isfinite(epsilon)
        delta = default_delta(len(self.dataset.train_records))
        ledger = PrivacyLedger(make_engine("sqlite://"))
        ledger.set_budget(self.dataset.dataset_id, epsilon=epsilon, delta=delta)
        config = TrainConfig(epsilon=epsilon, delta=delta if private else None,
                             epochs=s.epochs if private else s.nonprivate_epochs, batch_size=s.batch_size,
                             learning_rate=s.learning_rate, max_length=s.max_length, seed=s.seed, lora=self.lora)
        loaded = load_causal_lm(self.base, prepare=True)
        with self.timed(f"train client adapter eps={eps_label(epsilon)}"):
            run = run_private_training(dataset=self.dataset, ledger=ledger, config=config, model=loaded.model,
                                       tokenizer=loaded.tokenizer, base=self.signature, progress=False,
                                       condition_noise=s.condition_noise)
        cert = run.result.certificate
        counts = run.condition_counts.as_dict() if run.condition_counts else None
        info = {"epsilon": cert.epsilon if cert.is_private else "inf", "delta": cert.delta,
                "noise_multiplier": cert.noise_multiplier, "steps": len(run.result.losses),
                "releases": [r.value for r in cert.releases], "history": cert.history,
                "condition_counts": counts, "ledger": ledger.status(self.dataset.dataset_id).as_dict(),
                "seconds": round(run.result.seconds, 1), "final_loss": run.result.losses[-1] if run.result.losses else None}
        self.keep(f"adapter-eps={eps_label(epsilon)}.safetensors", run.adapter)
        return decode_adapter(run.adapter), info

    def generate(self, subject: Subject, label: str, counts: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The server's generate stage: samples per condition by the released shares (equal without any)."""
        request = JobCreateRequest(adapter_id="bench", task=TaskSpec(domain=DOMAIN, description=TASK_DESCRIPTION),
                                   n_samples=self.s.n_samples, condition_floor=self.s.condition_floor,
                                   condition_shares=condition_shares({"condition_counts": counts} if counts else None))
        with self.timed(f"generate {label}"):
            result = generate_samples(lm=LocalTextModel(subject.model, subject.tokenizer), template=self.template,
                                      n_samples=self.s.n_samples, sampling=self.sampling,
                                      batch_size=self.s.generation_batch, seed=self.s.seed, embedder=self.embedder,
                                      similarity=request.dedup_similarity,
                                      wanted=wanted_per_condition(request, self.template))
        self.log(f"  {len(result.samples)} samples from {result.attempts} attempts ({result.malformed} malformed, "
                 f"{result.duplicates} duplicates)")
        samples = [{**x.fields, "conditions": dict(x.conditions)} for x in result.samples]
        self.keep(f"samples-{label}.jsonl", samples)
        return samples

    def grade(self, samples: list[dict[str, Any]], label: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The server's grade stage: the expert's criteria and the label each sample was given. Returns the
        kept samples and every sample's grade (score, criteria), as kept under ``artifacts``."""
        with self.timed(f"grade {label}"):
            graded = grade_samples(lm=LocalTextModel(self.expert.model, self.expert.tokenizer), samples=samples,
                                   domain=DOMAIN, chat=self.expert.resolved.chat, labels=CONDITIONS.labels,
                                   label_calibration=self.s.label_calibration)
        grades = [{"score": g.score, "criteria": g.criteria} for g in graded]
        kept = kept_by_grades(samples, grades, self.s)
        self.keep(f"grades-{label}.jsonl", grades)
        self.log(f"  kept {len(kept)} of {len(samples)}")
        return kept, grades

    def knowledge_adapter(self, parent: DecodedAdapter, samples: list[dict[str, Any]], label: str, *,
                          start: KnowledgeStart | None = None) -> DecodedAdapter:
        """The server's training stage on the graded samples (the knowledge adapter keeps the template)."""
        s = self.s
        config = TrainConfig(epsilon=INF, epochs=s.knowledge_epochs, batch_size=s.knowledge_batch,
                             learning_rate=s.knowledge_lr, lora=self.lora, max_length=s.max_length, seed=s.seed)
        loaded = load_causal_lm(self.base)
        with self.timed(f"train knowledge adapter {label}"):
            data = train_knowledge_adapter(model=loaded.model, tokenizer=loaded.tokenizer, samples=samples,
                                           parent=parent, base=self.signature, description=TASK_DESCRIPTION,
                                           config=config, start=start or s.knowledge_start)
        return decode_adapter(data)

    # --- measures ------------------------------------------------------------------------------------

    def losses(self, subject: Subject, records: Sequence[Any]) -> list[float]:
        return per_record_losses(subject.model, subject.tokenizer, self.template, records, max_length=self.s.max_length)

    def tstr(self, samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """TSTR on the label each sample was written for, and the samples per condition."""
        labelled = [(str(x.get("text", "")), x.get("conditions", {}).get("label")) for x in samples]
        labelled = [(t, lab) for t, lab in labelled if t and lab]
        out: dict[str, Any] = {"samples": len(samples),
                               "per_condition": count_by_condition(x.get("conditions", {}) for x in samples)}
        if labelled:
            scores = classifier_scores([t for t, _ in labelled], [lab for _, lab in labelled], self.task.test_texts,
                                       self.task.test_labels, seed=self.s.seed, bootstrap=self.s.bootstrap)
            out["tstr"] = scores.to_dict()
        texts = [str(x.get("text", "")) for x in samples]
        if texts:
            distances = closest_distances(self.embedder.embed(texts), self.private_vectors)
            out["dcr"] = summarize(distances, holdout_p05=summarize(self.holdout_dcr).p05).to_dict()
            out["dcr_distances"] = [round(d, 4) for d in distances]
            out["pii_rate"] = pii_reconstruction(self.task.pii_items, texts).rate
            out["canaries_in_samples"] = [c.repeats for c in self.task.canaries if leaked_in_texts(c, texts)]
        return out

    def attacks(self, subject: Subject) -> dict[str, Any]:
        """Canary extraction and exposure per repeat count; the loss attack, raw and calibrated."""
        s = self.s
        with self.timed(f"  attacks {subject.name}"):
            members, nonmembers = self.losses(subject, self.members), self.losses(subject, self.nonmembers)
            continuations = extracted(subject, self.task.canaries)
            return {
                "mia_auc": loss_threshold_auc(members, nonmembers),
                "mia_auc_calibrated": calibrated_auc(members, nonmembers, self.base_losses["members"],
                                                     self.base_losses["nonmembers"]),
                "canaries": [{"repeats": c.repeats, "extracted": leaked_in_texts(c, [t]),
                              "exposure": round(exposure(subject, c, candidates=s.exposure_candidates, seed=s.seed), 3),
                              "continuation": t} for c, t in zip(self.task.canaries, continuations, strict=True)],
            }

    def knowledge_promise(self, dp: Subject, knowledge: Subject) -> dict[str, Any]:
        """The knowledge adapter against the client's DP adapter on held-out records: mean loss of the text
        given its conditions, and the expert's pairwise preference (both orders) on what each writes for
        held-out records' conditions."""
        holdout = self.dataset.holdout_records
        with self.timed(f"  knowledge vs DP {knowledge.name}"):
            dp_loss, k_loss = self.losses(dp, holdout), self.losses(knowledge, holdout)
            prompts = [self.template.messages(r.conditions)[-1]["content"] for r in self.judge_records]
            preferences = pairwise_preferences(
                self.expert.model, self.expert.tokenizer, prompts,
                knowledge.writes(self.judge_records, max_new_tokens=self.s.write_tokens),
                dp.writes(self.judge_records, max_new_tokens=self.s.write_tokens), chat=self.expert.resolved.chat)
        return {"heldout_loss": {"knowledge": _mean(k_loss), "dp": _mean(dp_loss),
                                 "base": _mean(self.base_losses["holdout"])},
                "win_rate_vs_dp": win_rate(preferences).to_dict()}


class _Timer:
    def __init__(self, timings: dict[str, float], name: str, log: Callable[[str], None]) -> None:
        self.timings, self.name, self.log = timings, name, log

    def __enter__(self) -> None:
        self.start = time.perf_counter()
        self.log(f"{self.name} ...")

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = round(time.perf_counter() - self.start, 1)
        self.log(f"{self.name}: {self.timings[self.name]} s")


def review_task(settings: QualitySettings, wheels_dir: Path) -> ReviewTask:
    """The run's private, held-out and test reviews, with canaries and PII planted as ``settings`` say."""
    return build_review_task(wheels_dir, n_train=settings.n_train, n_holdout=settings.n_holdout,
                             n_test=settings.n_test, canary_repeats=settings.canary_repeats,
                             pii_records=settings.pii_records, seed=settings.seed)


def check_canaries_fit(tokenizer: Any, template: GenerationTemplate, task: ReviewTask, max_length: int) -> int:
    """How many training examples ``max_length`` cuts; raises if it cuts a canary, whose secret would then
    never be trained on and every attack on it would pass without testing anything."""
    _, cut = tokenize_examples(tokenizer, template, [c.record for c in task.canaries], max_length=max_length)
    if cut:
        raise ValueError(f"max_length {max_length} cuts {cut} canary record(s) before their secret; raise it")
    return tokenize_examples(tokenizer, template, task.train, max_length=max_length)[1]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def artifacts_of(name: str) -> Path:
    """Where a named run keeps its adapters, samples and grades (beside the model cache, not committed)."""
    return ModelSettings().model_cache.parent / "bench" / name


def stored_samples(folder: Path, label: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A run's samples of one group and their grades (score, criteria), as ``Bench`` kept them."""
    def read(kind: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (folder / f"{kind}-{label}.jsonl").read_text().splitlines()]
    return read("samples"), read("grades")


def kept_by_grades(samples: Sequence[dict[str, Any]], grades: Sequence[dict[str, Any]],
                   settings: QualitySettings) -> list[dict[str, Any]]:
    """The samples the server's grading keeps (``passes`` at the settings' thresholds), each with its score."""
    return [{**x, "grade": g["score"]} for x, g in zip(samples, grades, strict=True)
            if passes(Grade(g["score"], g["criteria"], ""), min_grade=settings.min_grade,
                      min_condition=settings.min_condition)]


def eps_label(epsilon: float | None) -> str:
    return "-" if epsilon is None else "inf" if math.isinf(epsilon) else f"{epsilon:g}"


def _row(name: str, epsilon: float | None, measured: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"row": name, "epsilon": eps_label(epsilon), **measured, **extra}


def _sample_texts(samples: Sequence[dict[str, Any]], n: int = 6) -> list[dict[str, Any]]:
    return [{"conditions": x.get("conditions", {}), "text": x.get("text", "")} for x in samples[:n]]


def base_group(bench: Bench) -> list[dict[str, Any]]:
    """The base model prompted with each condition (equal shares: it saw no private data), then graded."""
    samples = bench.generate(bench.base_subject, "base prompted", None)
    kept, grades = bench.grade(samples, "base prompted")
    return [_row(BASE, None, bench.tstr(samples), sample_texts=_sample_texts(samples)),
            _row(BASE_GRADED, None, bench.tstr(kept), grades=[round(g["score"], 4) for g in grades],
                 sample_texts=_sample_texts(kept))]


def epsilon_group(bench: Bench, epsilon: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """At one epsilon: the client's adapter (attacked), its raw samples, the full pipeline's graded samples
    and the knowledge adapter trained on them (against the DP adapter)."""
    label = f"eps={eps_label(epsilon)}"
    adapter, certificate = bench.train_client_adapter(epsilon)
    writer = bench.subject(f"adapter {label}", adapter)
    raw = bench.generate(writer, label, certificate["condition_counts"])
    attacks = bench.attacks(writer)
    kept, grades = bench.grade(raw, label)
    promise: dict[str, Any] = {}
    if kept:
        knowledge = bench.subject(f"knowledge {label}", bench.knowledge_adapter(adapter, kept, label))
        promise = bench.knowledge_promise(writer, knowledge)
        del knowledge
    del writer
    gc.collect()
    return [_row(RAW, epsilon, bench.tstr(raw), attacks=attacks, sample_texts=_sample_texts(raw)),
            _row(PIPELINE, epsilon, bench.tstr(kept), grades=[round(g["score"], 4) for g in grades], knowledge=promise,
                 sample_texts=_sample_texts(kept))], certificate


def run_quality(settings: QualitySettings, *, wheels_dir: Path, name: str | None = None,
                log: Callable[[str], None] = print, artifacts: Path | None = None) -> dict[str, Any]:
    """Every group of rows (base, then each epsilon), measured; with ``name`` saved after each group and the
    groups already saved under that name with the same settings kept, not rerun. Each group's adapter,
    samples and grades are written under ``artifacts`` (default with a name: ``.cache/bench/<name>/``)."""
    started = time.perf_counter()
    previous = RESULTS / f"{name}.json" if name else None
    done: dict[str, Any] = {}
    if previous is not None and previous.exists():
        old = json.loads(previous.read_text())
        if old.get("settings") == settings.model_dump(mode="json"):
            done = old.get("groups", {})
    if artifacts is None and name:
        artifacts = artifacts_of(name)
    bench = Bench(settings, wheels_dir=wheels_dir, log=log, artifacts=artifacts)
    task = bench.task
    real = classifier_scores([r.text for r in task.train], task.train_labels, task.test_texts, task.test_labels,
                             seed=settings.seed, bootstrap=settings.bootstrap)
    result: dict[str, Any] = {
        "settings": settings.model_dump(mode="json"), "machine": machine(),
        "command": "python -m bench.quality " + " ".join(sys.argv[1:]),
        "real_data": real.to_dict(), "holdout_dcr": summarize(bench.holdout_dcr).to_dict(),
        "holdout_dcr_distances": [round(d, 4) for d in bench.holdout_dcr],
        "conditions": CONDITIONS.domains,
        "canaries": [{"repeats": c.repeats, "secret_digits": len(c.digits)} for c in task.canaries],
        "pii_items": len(task.pii_items), "cut_examples": {"cut": bench.cut_examples, "of": len(task.train),
                                                             "max_length": settings.max_length},
        "groups": done, "timings": bench.timings}
    groups: list[tuple[str, Callable[[], dict[str, Any]]]] = [("base", lambda: {"rows": base_group(bench)})]
    for epsilon in settings.epsilons:
        def group(epsilon: float = epsilon) -> dict[str, Any]:
            rows, certificate = epsilon_group(bench, epsilon)
            return {"rows": rows, "certificate": certificate}
        groups.append((f"eps={eps_label(epsilon)}", group))
    for key, measure in groups:
        if key in done:
            log(f"{key}: kept from {previous}")
            continue
        done[key] = measure()
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        if name:
            save(name, {**result, "rows": rows_of(result)})
    result["rows"] = rows_of(result)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    return result


def rows_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every measured row, train-on-real first, then base, then by epsilon."""
    real = {"row": REAL, "epsilon": "-", "samples": result["settings"]["n_train"], "tstr": result["real_data"]}
    return [real] + [row for group in result["groups"].values() for row in group["rows"]]


TABLE_COLUMNS = ["row", "epsilon", "samples", "auc", "auc se", "accuracy", "macro_f1", "kept loss vs dp",
                 "win vs dp", "canaries extracted", "mia", "mia calibrated", "dcr median"]


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in result["rows"]:
        tstr, attacks, knowledge = r.get("tstr") or {}, r.get("attacks") or {}, r.get("knowledge") or {}
        loss = knowledge.get("heldout_loss")
        out.append({"row": r["row"], "epsilon": r["epsilon"], "samples": r.get("samples"), "auc": tstr.get("auc"),
                    "auc se": (tstr.get("se") or {}).get("auc"), "accuracy": tstr.get("accuracy"),
                    "macro_f1": tstr.get("macro_f1"),
                    "kept loss vs dp": f"{loss['knowledge']:.3f} / {loss['dp']:.3f}" if loss else None,
                    "win vs dp": (knowledge.get("win_rate_vs_dp") or {}).get("win_rate"),
                    "canaries extracted": ",".join(f"x{c['repeats']}" for c in attacks.get("canaries", [])
                                                   if c["extracted"]) or ("-" if attacks else None),
                    "mia": attacks.get("mia_auc"), "mia calibrated": attacks.get("mia_auc_calibrated"),
                    "dcr median": (r.get("dcr") or {}).get("median")})
    return out


def must_hold(result: dict[str, Any], *, epsilon: str = "8") -> dict[str, bool | None]:
    """The issue's expectations on the measured rows (None where a row is missing)."""
    rows = {(r["row"], r["epsilon"]): r for r in result["rows"]}

    def tstr(name: str, eps: str = "-") -> dict[str, Any] | None:
        row = rows.get((name, eps))
        return (row or {}).get("tstr")

    def beyond(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool | None:
        """a's AUC above b's by more than the standard error of their difference."""
        if not a or not b or a.get("auc") is None or b.get("auc") is None:
            return None
        se = math.hypot((a.get("se") or {}).get("auc") or 0.0, (b.get("se") or {}).get("auc") or 0.0)
        return bool(a["auc"] - b["auc"] > se)

    real, full = tstr(REAL), tstr(PIPELINE, epsilon)
    raw, base, graded = tstr(RAW, epsilon), tstr(BASE), tstr(BASE_GRADED)
    pipeline = rows.get((PIPELINE, epsilon)) or {}
    knowledge = pipeline.get("knowledge") or {}
    private_attacks = (rows.get((RAW, epsilon)) or {}).get("attacks")
    control = (rows.get((RAW, "inf")) or {}).get("attacks")
    return {
        f"eps {epsilon}: pipeline AUC >= 0.90 x train-on-real": None if not (full and real and full.get("auc")) else (
            full["auc"] >= 0.9 * real["auc"]),
        f"eps {epsilon}: pipeline accuracy >= 0.80 x train-on-real": None if not (full and real) else (
            full["accuracy"] >= 0.8 * real["accuracy"]),
        "pipeline > base + grading (beyond se)": beyond(full, graded),
        "base + grading > DP raw (beyond se)": beyond(graded, raw),
        "DP raw > base prompted (beyond se)": beyond(raw, base),
        "knowledge adapter: lower held-out loss than the DP adapter": None if not knowledge else (
            knowledge["heldout_loss"]["knowledge"] < knowledge["heldout_loss"]["dp"]),
        "knowledge adapter: judged better than the DP adapter (> 0.5)": None if not knowledge else (
            knowledge["win_rate_vs_dp"]["win_rate"] > 0.5),
        "control: non-private leaks a canary planted >= 16 times": None if not control else any(
            c["extracted"] for c in control["canaries"] if c["repeats"] >= 16),
        "control: non-private calibrated MIA AUC >= 0.6": None if not control else control["mia_auc_calibrated"] >= 0.6,
        f"eps {epsilon}: no canary planted once extracted": None if not private_attacks else not any(
            c["extracted"] for c in private_attacks["canaries"] if c["repeats"] == 1),
        f"eps {epsilon}: calibrated MIA AUC <= 0.55": None if not private_attacks else (
            private_attacks["mia_auc_calibrated"] <= 0.55),
    }


def report(result: dict[str, Any], name: str) -> None:
    """Print the table and the checks; save the JSON and the HTML report."""
    from bench.html_report import write_html

    result["must_hold"] = must_hold(result)
    print(table(table_rows(result), TABLE_COLUMNS))
    for check, ok in result["must_hold"].items():
        print(f"{'yes' if ok else 'NO ' if ok is not None else ' - '}  {check}")
    print(f"total {result.get('total_seconds')} s")
    print(f"saved {save(name, result)}")
    print(f"report {write_html(result, RESULTS / f'{name}.html')}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = settings_parser(__doc__, benchmark="quality", quick="CI-sized settings (minutes)")
    args = parser.parse_args(argv)
    name = args.name or ("quality_quick" if args.quick else "quality")
    if args.render_only:
        report(json.loads((RESULTS / f"{name}.json").read_text()), name)
        return
    base = QualitySettings.quick() if args.quick else QualitySettings()
    settings = with_overrides(parser, base, args.settings)
    report(run_quality(settings, wheels_dir=wheels_dir_of(args), name=name), name)


if __name__ == "__main__":
    main()
