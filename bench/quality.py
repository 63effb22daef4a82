"""Quality benchmark: utility and privacy of every row of a KnowledgeSG-style table on real labelled reviews.

Private data: balanced review sentiment from Women's E-Commerce Clothing Reviews (5 stars = positive,
1-2 stars = negative), canaries (fake card numbers, planted 1, 4 and 16 times) and fake identities
(presidio-evaluator) planted in the private training split. The client side trains and evaluates with
the project's own code (`shared.training`, `client_node.evaluation`), the server side runs its own
pipeline functions (`server_node.pipeline`: generate, grade, rewrite, train the knowledge adapter), and
every adapter crosses the same codec as on the wire; only the HTTP hops of a real run are left out.

Rows: base model prompted (its samples train a knowledge adapter); DP adapter used directly; DP
generation without server refinement (raw samples -> knowledge adapter); the full pipeline at each
epsilon (graded samples -> knowledge adapter); non-private fine-tuning (the ceiling and the leakage
reference); training-free DP generation by next-token votes (Gaussian and Laplace report-noisy-max,
client_node.voting) at the same epsilon, its samples training a knowledge adapter raw and after the
server's grading. Columns: TSTR accuracy / macro-F1 (TF-IDF + logistic regression on the samples, tested on
real reviews), held-out loss of the row's model (response given instruction), expert-judged win rate
against the base model (both answer orders), canaries leaked (greedy extraction or present in the
samples), PII reconstruction rate, loss-threshold MIA AUC on the row's released adapter, DCR.

Run:  python -m bench.quality [--quick]     (or: privsynth-bench quality [--quick])
Writes bench/results/quality.json (or quality_quick.json) and an HTML report beside it.
"""

from __future__ import annotations

import gc
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from bench.common import RESULTS, machine, save, settings_parser, table, wheels_dir_of
from bench.reviews import DOMAIN, LABELS, TASK_DESCRIPTION, ReviewTask, build_review_task, instruction_for
from client_node.evaluation.heldout import per_record_losses
from client_node.evaluation.privacy.canaries import exposure, extracted, leaked_in_texts
from client_node.evaluation.privacy.dcr import closest_distances, summarize
from client_node.evaluation.privacy.membership import loss_threshold_auc
from client_node.evaluation.privacy.overlap import PrivateNgrams, overlap_summary
from client_node.evaluation.privacy.pii import pii_reconstruction
from client_node.evaluation.subjects import Subject
from client_node.evaluation.utility.judge import pairwise_preferences, win_rate
from client_node.evaluation.utility.tstr import classifier_scores
from client_node.training.export import export_adapter
from server_node.inference import LocalTextModel
from server_node.pipeline.distill import Parent, knowledge_template, train_knowledge_adapter
from server_node.pipeline.generate import generate_samples
from server_node.pipeline.grade import grade_samples, passes, requested_label
from server_node.pipeline.rewrite import rewrite_samples
from shared.adapters import decode_adapter
from shared.adapters.codec import DecodedAdapter
from shared.adapters.peft_io import load_lora
from shared.compute import resolve_compute
from shared.lora import LoraSpec
from shared.models.embedding import SentenceEmbedder
from shared.models.loading import LoadedModel, load_causal_lm, load_for, signature_of
from shared.models.resolve import ResolvedModel, resolve_model
from shared.models.sampling import sample_texts
from shared.privacy import DPCertificate
from shared.prompts import GenerationTemplate
from shared.protocol import JobCreateRequest, SamplingParams
from shared.training import PrivateLoraTrainer, TrainConfig

INF = float("inf")


class QualitySettings(BaseModel):
    """Everything that sets the benchmark's size; recorded in the results."""

    model_config = ConfigDict(frozen=True)

    n_train: int = 300
    n_holdout: int = 150
    n_test: int = 1000
    canary_repeats: tuple[int, ...] = (1, 4, 16)
    pii_records: int = 10
    epsilons: tuple[float, ...] = (1.0, 4.0, 8.0, INF)
    direct_epsilon: float = 8.0  # the epsilon of the "DP adapter used directly" and "no refinement" rows
    delta: float = 1e-4
    epochs: int = 2
    batch_size: int = 32  # expected batch (Poisson) for DP; the same batch size without DP
    learning_rate: float = 3e-3
    lora_targets: tuple[str, ...] = ("q_proj", "v_proj")
    lora_rank: int = 8
    max_length: int = 160
    n_samples: int = 120
    max_new_tokens: int = 80
    temperature: float = 0.8
    generation_batch: int = 16
    min_grade: float = JobCreateRequest.model_fields["min_grade"].default
    min_condition: float = JobCreateRequest.model_fields["min_condition"].default
    rewrite_row: bool = True  # also measure the pipeline with the expert's rewriting at direct_epsilon
    base_row: bool = True  # the base model prompted (no private data)
    dp_lora_rows: bool = True  # the DP-LoRA rows (off: only the training-free rows, e.g. to add them to a run)
    # training-free DP generation (client_node.voting): rows at each epsilon and noise, raw and server-graded
    vote_epsilons: tuple[float, ...] = (8.0,)
    vote_noises: tuple[str, ...] = ("gaussian", "laplace")
    vote_samples: int = 30  # split evenly between the labels (parallel strata)
    vote_max_new_tokens: int = 64
    vote_groups: int = 64
    vote_shots: int = 2
    vote_candidates: int = 8
    vote_kind: str = "soft"
    vote_graded_row: bool = True
    knowledge_epochs: int = 2
    knowledge_batch: int = 8
    knowledge_lr: float = 1e-3
    win_instructions: int = 30
    answer_tokens: int = 64
    exposure_candidates: int = 63
    mia_members: int = 150
    base_model: str = "smollm2-135m-instruct"
    expert_model: str = "gemma3-270m"
    embedder: str = "all-minilm-l6-v2"
    seed: int = 0

    @classmethod
    def quick(cls) -> QualitySettings:
        """CI-sized: minutes, not an hour; figures are noisy at this size."""
        return cls(n_train=120, n_holdout=60, n_test=200, canary_repeats=(1, 8), pii_records=4, epsilons=(8.0, INF),
                   epochs=1, batch_size=16, n_samples=32, max_new_tokens=64, win_instructions=8, answer_tokens=32,
                   exposure_candidates=31, mia_members=60, rewrite_row=False, knowledge_epochs=1,
                   vote_noises=("gaussian",), vote_samples=8, vote_max_new_tokens=48, vote_groups=24,
                   vote_graded_row=False)


@dataclass
class Row:
    """One row of the table and what it released."""

    name: str
    epsilon: float | None
    samples: list[dict[str, Any]]
    subject: Subject | None = None
    grades: list[float] = field(default_factory=list)  # all graded samples' grades (full pipeline rows)
    metrics: dict[str, Any] = field(default_factory=dict)


class Bench:
    """Holds the models and data of one benchmark run; each method is one step of the table."""

    def __init__(self, settings: QualitySettings, *, wheels_dir: Path, log: Callable[[str], None] = print) -> None:
        self.s = settings
        self.log = log
        self.timings: dict[str, float] = {}
        self.task: ReviewTask = build_review_task(
            wheels_dir, n_train=settings.n_train, n_holdout=settings.n_holdout, n_test=settings.n_test,
            canary_repeats=settings.canary_repeats, pii_records=settings.pii_records, seed=settings.seed)
        self.base: ResolvedModel = resolve_model(settings.base_model)
        self.signature = signature_of(self.base)
        self.expert: LoadedModel = load_for(resolve_model(settings.expert_model), resolve_compute())
        self.embedder = SentenceEmbedder.load(resolve_model(settings.embedder))
        self.template = GenerationTemplate.for_task(TASK_DESCRIPTION)
        self.sampling = SamplingParams(temperature=settings.temperature, max_new_tokens=settings.max_new_tokens)
        rng = random.Random(settings.seed + 1)
        self.win_records = rng.sample(self.task.holdout, min(settings.win_instructions, len(self.task.holdout)))
        unique_members = list(dict.fromkeys(r for r in self.task.train if not any(r == c.record for c in self.task.canaries)))
        self.members = rng.sample(unique_members, min(settings.mia_members, len(unique_members)))
        self.private_vectors = self.embedder.embed([r.response for r in self.task.train])
        self.holdout_dcr = closest_distances(self.embedder.embed([r.response for r in self.task.holdout]),
                                             self.private_vectors)
        self.private_ngrams = PrivateNgrams([r.response for r in self.task.train])
        base_subject = self.fresh_subject("base model", None, GenerationTemplate.for_answering(TASK_DESCRIPTION))
        self.base_answers = base_subject.answers([r.instruction for r in self.win_records],
                                                 max_new_tokens=settings.answer_tokens)
        self.base_subject = base_subject
        self.vote_parent: Parent | None = None  # set by vote_samples: the votes' certificate for their knowledge adapter

    # --- models ------------------------------------------------------------------------------------

    def timed(self, name: str) -> _Timer:
        return _Timer(self.timings, name, self.log)

    def fresh_subject(self, name: str, adapter: DecodedAdapter | None, template: GenerationTemplate) -> Subject:
        loaded = load_causal_lm(self.base)
        model = load_lora(loaded.model, adapter).merge_and_unload() if adapter is not None else loaded.model
        model.eval()
        return Subject(name, model, loaded.tokenizer, template)

    def train_client_adapter(self, epsilon: float) -> tuple[DecodedAdapter, dict[str, Any]]:
        """The client's step: DP-LoRA (or plain LoRA at inf) on the private records, exported by the codec."""
        s = self.s
        config = TrainConfig(epsilon=epsilon, delta=s.delta, epochs=s.epochs, batch_size=s.batch_size,
                             learning_rate=s.learning_rate, max_length=s.max_length, seed=s.seed,
                             lora=self.lora)
        loaded = load_causal_lm(self.base)
        with self.timed(f"train client adapter eps={epsilon}"):
            result = PrivateLoraTrainer(config=config, progress=False).train(
                model=loaded.model, tokenizer=loaded.tokenizer, records=self.task.train, template=self.template)
        adapter = decode_adapter(export_adapter(result, base=self.signature, template=self.template))
        info = {"epsilon_spent": result.certificate.epsilon, "noise_multiplier": result.certificate.noise_multiplier,
                "steps": len(result.losses), "seconds": round(result.seconds, 1)}
        return adapter, info

    def generate(self, subject: Subject, label: str) -> list[dict[str, Any]]:
        """The server's generate stage on base + the client's adapter."""
        with self.timed(f"generate {label}"):
            result = generate_samples(lm=LocalTextModel(subject.model, subject.tokenizer), template=self.template,
                                      n_samples=self.s.n_samples, sampling=self.sampling,
                                      batch_size=self.s.generation_batch, seed=self.s.seed, embedder=self.embedder,
                                      similarity=JobCreateRequest.model_fields["dedup_similarity"].default)
        self.log(f"  {len(result.samples)} samples from {result.attempts} attempts ({result.malformed} malformed, "
                 f"{result.duplicates} duplicates)")
        return [dict(x.fields) for x in result.samples]

    def vote_samples(self, epsilon: float, noise: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The client's training-free route: next-token votes of disjoint groups of the private records,
        under a ledger whose budget is ``epsilon`` (the same records and delta as the DP-LoRA rows)."""
        from client_node.ledger import PrivacyLedger, make_engine
        from client_node.voting.run import VoteConfig, run_vote_generation

        s = self.s
        ledger = PrivacyLedger(make_engine("sqlite://"))
        ledger.set_budget("reviews", epsilon=epsilon, delta=s.delta)
        config = VoteConfig(epsilon=epsilon, delta=s.delta, noise=noise, n_samples=s.vote_samples,
                            max_new_tokens=s.vote_max_new_tokens, groups=s.vote_groups, shots=s.vote_shots,
                            candidates=s.vote_candidates, vote=s.vote_kind, labels=list(LABELS),
                            prefix="Write a {label} customer review of a clothing item.\n### Response:\n", seed=s.seed)
        loaded = load_for(self.base, resolve_compute())  # what this machine computes fastest
        start = time.perf_counter()
        with self.timed(f"vote generation {noise} eps={eps_label(epsilon)}"):
            run = run_vote_generation(dataset_id="reviews", task=TASK_DESCRIPTION, records=self.task.train,
                                      ledger=ledger, config=config, model=loaded.model, tokenizer=loaded.tokenizer)
        self.log(f"  {len(run.samples)} samples ({run.counts}); tokens {run.tokens_spent}; plan {run.plan.as_dict()}")
        info = {"epsilon_spent": run.certificate.epsilon, "delta": run.certificate.delta, "plan": run.plan.as_dict(),
                "counts": run.counts, "tokens_spent": run.tokens_spent, "groups": run.groups,
                "ledger": ledger.status("reviews").as_dict(), "seconds": round(time.perf_counter() - start, 1)}
        samples = [{"instruction": x["instruction"], "response": x["response"]} for x in run.samples]
        self.vote_parent = Parent(self.template, run.certificate, "0" * 64)  # the sample set's place (not hashed here)
        return samples, info

    def base_samples(self) -> list[dict[str, Any]]:
        """The base model asked directly for labelled reviews: prompts name a label and a public item kind."""
        rng = random.Random(self.s.seed + 2)
        items = ["Dresses", "Knits", "Blouses", "Sweaters", "Pants", "Jeans", "Skirts", "Jackets", "Swim", "Outerwear"]
        instructions = [instruction_for(rng.choice(LABELS), rng.choice(items)) for _ in range(self.s.n_samples)]
        subject = self.base_subject
        out: list[dict[str, Any]] = []
        with self.timed("generate base prompted"):
            for start in range(0, len(instructions), self.s.generation_batch):
                batch = instructions[start : start + self.s.generation_batch]
                texts = sample_texts(subject.model, subject.tokenizer, [subject.answer_prompt(i) for i in batch],
                                     max_new_tokens=self.s.max_new_tokens, temperature=self.s.temperature,
                                     top_k=self.sampling.top_k)
                out += [{"instruction": i, "response": t} for i, t in zip(batch, texts, strict=True) if t.strip()]
        return out

    def grade(self, samples: list[dict[str, Any]], label: str) -> tuple[list[dict[str, Any]], list[float]]:
        """The server's grade stage (the expert, likelihood criteria and the label condition)."""
        with self.timed(f"grade {label}"):
            grades = grade_samples(lm=LocalTextModel(self.expert.model, self.expert.tokenizer), samples=samples,
                                   domain=DOMAIN, chat=self.expert.resolved.chat, labels=list(LABELS))
        kept = [{**x, "grade": g.score} for x, g in zip(samples, grades, strict=True)
                if passes(g, min_grade=self.s.min_grade, min_condition=self.s.min_condition)]
        self.log(f"  kept {len(kept)} of {len(samples)} (min_grade {self.s.min_grade}, min_condition "
                 f"{self.s.min_condition})")
        return kept, [g.score for g in grades]

    def rewrite(self, samples: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
        with self.timed(f"rewrite {label}"):
            out = rewrite_samples(lm=LocalTextModel(self.expert.model, self.expert.tokenizer), samples=samples,
                                  chat=self.expert.resolved.chat, sampling=self.sampling,
                                  batch_size=self.s.generation_batch)
        return [{**x, **r.fields} for x, r in zip(samples, out, strict=True)]

    def knowledge_subject(self, parent: DecodedAdapter | Parent, samples: list[dict[str, Any]],
                          label: str) -> Subject | None:
        """The server's training stage: a knowledge adapter on the samples, decoded and merged for evaluation
        (None when there is nothing to train on: the job would have failed)."""
        s = self.s
        if isinstance(parent, DecodedAdapter):
            parent = Parent.of_adapter(parent)
        if not samples:
            self.log(f"  no samples for {label}: no knowledge adapter")
            return None
        config = TrainConfig(epsilon=INF, epochs=s.knowledge_epochs, batch_size=s.knowledge_batch,
                             learning_rate=s.knowledge_lr, lora=self.lora, max_length=s.max_length, seed=s.seed)
        loaded = load_causal_lm(self.base)
        with self.timed(f"train knowledge adapter {label}"):
            data = train_knowledge_adapter(model=loaded.model, tokenizer=loaded.tokenizer, samples=samples,
                                           parent=parent, base=self.signature, description=TASK_DESCRIPTION,
                                           config=config)
        del loaded
        adapter = decode_adapter(data)
        return self.fresh_subject(label, adapter, knowledge_template(parent.template, TASK_DESCRIPTION))

    @property
    def lora(self) -> LoraSpec:
        return LoraSpec(r=self.s.lora_rank, alpha=2.0 * self.s.lora_rank, target_modules=self.s.lora_targets)

    # --- measures ----------------------------------------------------------------------------------

    def measure(self, row: Row) -> None:
        """Fill every column of ``row`` from its samples and its model."""
        with self.timed(f"measure {row.name}"):
            row.metrics.update(self.sample_metrics(row.samples))
            if row.subject is not None:
                row.metrics.update(self.model_metrics(row.subject))
            leaked = [c for c, by_model in zip(self.task.canaries, row.metrics.pop("_canary_extracted", [False] * len(
                self.task.canaries)), strict=True) if by_model or leaked_in_texts(c, [_text(x) for x in row.samples])]
            row.metrics["canaries_leaked"] = len(leaked)
            row.metrics["canaries_leaked_repeats"] = [c.repeats for c in leaked]

    def sample_metrics(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"samples": len(samples)}
        labelled = [(x["response"], requested_label(x, LABELS)) for x in samples if x.get("response")]
        labelled = [(t, lab) for t, lab in labelled if lab is not None]
        out["labelled_samples"] = len(labelled)
        if labelled:
            scores = classifier_scores([t for t, _ in labelled], [lab for _, lab in labelled], self.task.test_texts,
                                       self.task.test_labels, seed=self.s.seed)
            out["tstr_accuracy"], out["tstr_macro_f1"], out["tstr_auc"] = scores.accuracy, scores.macro_f1, scores.auc
            out["labels_generated"] = {label: sum(lab == label for _, lab in labelled) for label in LABELS}
        texts = [_text(x) for x in samples]
        out["pii_rate"] = pii_reconstruction(self.task.pii_items, texts).rate
        if texts:
            distances = closest_distances(self.embedder.embed([x.get("response", "") for x in samples]),
                                          self.private_vectors)
            holdout_p05 = summarize(self.holdout_dcr).p05
            out["dcr"] = summarize(distances, holdout_p05=holdout_p05).to_dict()
            out["dcr_distances"] = [round(d, 4) for d in distances]
            out["overlap"] = overlap_summary([x.get("response", "") for x in samples], self.private_ngrams).to_dict()
        return out

    def model_metrics(self, subject: Subject) -> dict[str, Any]:
        s = self.s
        out: dict[str, Any] = {}
        with self.timed(f"  held-out loss + MIA {subject.name}"):
            losses = subject.response_losses(self.task.holdout)
            out["heldout_loss"] = sum(losses) / len(losses)
            members = per_record_losses(subject.model, subject.tokenizer, subject.template, self.members,
                                        max_length=s.max_length)
            nonmembers = per_record_losses(subject.model, subject.tokenizer, subject.template,
                                           self.task.holdout[: len(self.members)], max_length=s.max_length)
            out["mia_auc"] = loss_threshold_auc(members, nonmembers)
        with self.timed(f"  win rate {subject.name}"):
            answers = subject.answers([r.instruction for r in self.win_records], max_new_tokens=s.answer_tokens)
            preferences = pairwise_preferences(self.expert.model, self.expert.tokenizer,
                                               [r.instruction for r in self.win_records], answers, self.base_answers,
                                               chat=self.expert.resolved.chat)
            out["win_rate"] = win_rate(preferences).to_dict()
            out["answer_examples"] = answers[:3]
        with self.timed(f"  canaries {subject.name}"):
            continuations = extracted(subject, self.task.canaries)
            out["_canary_extracted"] = [leaked_in_texts(c, [t])
                                        for c, t in zip(self.task.canaries, continuations, strict=True)]
            out["canary_exposure"] = [round(exposure(subject, c, candidates=s.exposure_candidates, seed=s.seed), 3)
                                      for c in self.task.canaries]
            out["canary_continuations"] = continuations
        return out


class _Timer:
    def __init__(self, timings: dict[str, float], name: str, log: Callable[[str], None]) -> None:
        self.timings, self.name, self.log = timings, name, log

    def __enter__(self) -> None:
        self.start = time.perf_counter()
        self.log(f"{self.name} ...")

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = round(time.perf_counter() - self.start, 1)
        self.log(f"{self.name}: {self.timings[self.name]} s")


def _text(sample: dict[str, Any]) -> str:
    return "\n".join(str(sample.get(k, "")) for k in ("instruction", "input", "response", "text") if sample.get(k))


def _no_parent(template: GenerationTemplate) -> Parent:
    """The base row's knowledge adapter has no DP parent: it lends the template only, and no certificate is
    reported for the row."""
    return Parent(template, DPCertificate.non_private(steps=0, sample_rate=1.0, training_records=0), "0" * 64)


def eps_label(epsilon: float | None) -> str:
    return "-" if epsilon is None else "inf" if math.isinf(epsilon) else f"{epsilon:g}"


def run_quality(settings: QualitySettings, *, wheels_dir: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every row of the table, measured; returns the JSON-able result."""
    started = time.perf_counter()
    bench = Bench(settings, wheels_dir=wheels_dir, log=log)
    task = bench.task
    real = classifier_scores([r.response for r in task.train], task.train_labels, task.test_texts, task.test_labels)
    rows: list[Row] = []

    def finish(row: Row) -> None:
        bench.measure(row)
        row.subject = None
        gc.collect()
        rows.append(row)
        log(f"row done: {row.name} eps={eps_label(row.epsilon)}")

    certificates: dict[str, Any] = {}
    dp_epsilons = sorted(set(settings.epsilons) | {settings.direct_epsilon}) if settings.dp_lora_rows else []
    for epsilon in dp_epsilons:
        label = f"eps={eps_label(epsilon)}"
        adapter, certificates[label] = bench.train_client_adapter(epsilon)
        writer = bench.fresh_subject(f"adapter {label}", adapter, bench.template)
        raw = bench.generate(writer, label)
        if epsilon == settings.direct_epsilon:
            finish(Row("DP adapter used directly", epsilon, raw, subject=writer))
            finish(Row("DP generation, no server refinement", epsilon, raw,
                       subject=bench.knowledge_subject(adapter, raw, f"raw {label}")))
        if math.isinf(epsilon):
            finish(Row("non-private fine-tuning (adapter used directly)", epsilon, raw, subject=writer))
        del writer
        gc.collect()
        if epsilon in settings.epsilons:
            kept, grades = bench.grade(raw, label)
            finish(Row("full pipeline (ours)", epsilon, kept, subject=bench.knowledge_subject(adapter, kept, label),
                       grades=grades))
            if settings.rewrite_row and epsilon == settings.direct_epsilon:
                rewritten = bench.rewrite(kept, label)
                finish(Row("full pipeline + expert rewriting", epsilon, rewritten,
                           subject=bench.knowledge_subject(adapter, rewritten, f"rewritten {label}")))
    # Training-free rows: the votes' samples train a knowledge adapter as a server would (raw, and graded),
    # inheriting the votes' certificate.
    for epsilon in settings.vote_epsilons:
        for noise in settings.vote_noises:
            label = f"votes {noise} eps={eps_label(epsilon)}"
            samples, certificates[label] = bench.vote_samples(epsilon, noise)
            finish(Row(f"training-free DP votes ({noise})", epsilon, samples,
                       subject=bench.knowledge_subject(bench.vote_parent or _no_parent(bench.template), samples, label)))
            if settings.vote_graded_row and samples:
                kept, grades = bench.grade(samples, label)
                finish(Row(f"training-free DP votes ({noise}) + server grading", epsilon, kept,
                           subject=bench.knowledge_subject(bench.vote_parent or _no_parent(bench.template), kept,
                                                           f"graded {label}"), grades=grades))
    # The base row: the base model's own samples train a knowledge adapter (the pipeline without any
    # private data).
    if settings.base_row:
        samples = bench.base_samples()
        finish(Row("base model prompted -> knowledge adapter", None, samples,
                   subject=bench.knowledge_subject(_no_parent(bench.template), samples, "base prompted")))
        rows.insert(0, rows.pop())
    return {
        "settings": settings.model_dump(mode="json"),
        "machine": machine(),
        "real_data": real.to_dict(),
        "holdout_dcr": summarize(bench.holdout_dcr).to_dict(),
        "holdout_dcr_distances": [round(d, 4) for d in bench.holdout_dcr],
        "canaries": [{"repeats": c.repeats, "secret_digits": len(c.digits)} for c in task.canaries],
        "pii_items": len(task.pii_items),
        "certificates": certificates,
        "rows": [{"row": r.name, "epsilon": eps_label(r.epsilon), **r.metrics, "grades": [round(g, 4) for g in r.grades],
                  "sample_texts": [{k: x.get(k, "") for k in ("instruction", "response")} for x in r.samples]}
                 for r in rows],
        "timings": bench.timings,
        "total_seconds": round(time.perf_counter() - started, 1),
    }


TABLE_COLUMNS = ["row", "epsilon", "samples", "tstr_accuracy", "tstr_macro_f1", "tstr_auc", "heldout_loss", "win_rate",
                 "canaries_leaked", "pii_rate", "mia_auc", "dcr_median"]


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = [{"row": "real reviews (train on real)", "epsilon": "-", "samples": result["settings"]["n_train"],
            "tstr_accuracy": result["real_data"]["accuracy"], "tstr_macro_f1": result["real_data"]["macro_f1"],
            "tstr_auc": result["real_data"].get("auc"),
            "dcr_median": result["holdout_dcr"]["median"]}]
    n_canaries = len(result["canaries"])
    for r in result["rows"]:
        out.append({**{k: r.get(k) for k in TABLE_COLUMNS}, "win_rate": (r.get("win_rate") or {}).get("win_rate"),
                    "canaries_leaked": f"{r.get('canaries_leaked', 0)}/{n_canaries}",
                    "dcr_median": (r.get("dcr") or {}).get("median")})
    return out


def must_hold(result: dict[str, Any]) -> dict[str, bool | None]:
    """The issue's expectations, checked on the measured rows (None where a row is missing)."""
    rows = result["rows"]

    def find(name: str, epsilon: str) -> dict[str, Any] | None:
        return next((r for r in rows if r["row"] == name and r["epsilon"] == epsilon), None)

    direct = eps_label(result["settings"]["direct_epsilon"])
    nonprivate = find("non-private fine-tuning (adapter used directly)", "inf")
    dp_rows = [r for r in rows if r["epsilon"] not in {"-", "inf"} and float(r["epsilon"]) <= 8]
    ours, raw = find("full pipeline (ours)", direct), find("DP generation, no server refinement", direct)
    dp_direct = find("DP adapter used directly", direct)
    return {
        "non-private row leaks at least one canary": None if nonprivate is None else nonprivate["canaries_leaked"] >= 1,
        "DP rows at eps <= 8 leak no canary": all(r["canaries_leaked"] == 0 for r in dp_rows) if dp_rows else None,
        f"MIA AUC of the DP adapter at eps {direct} within 0.5 +- 0.05": None if dp_direct is None else abs(
            dp_direct["mia_auc"] - 0.5) <= 0.05,
        f"full pipeline beats no refinement on TSTR (eps {direct})": None if not (ours and raw) else (
            ours.get("tstr_accuracy", 0) > raw.get("tstr_accuracy", 0)),
        f"full pipeline beats no refinement on win rate (eps {direct})": None if not (ours and raw) else (
            (ours.get("win_rate") or {}).get("win_rate", 0) > (raw.get("win_rate") or {}).get("win_rate", 0)),
    }


def report(result: dict[str, Any], name: str) -> None:
    """Print the table and the checks; save the JSON and the HTML report."""
    from bench.html_report import write_html

    result["must_hold"] = must_hold(result)
    print(table(table_rows(result), TABLE_COLUMNS))
    for check, ok in result["must_hold"].items():
        print(f"{'yes' if ok else 'NO ' if ok is not None else ' - '}  {check}")
    print(f"total {result['total_seconds']} s")
    print(f"saved {save(name, result)}")
    print(f"report {write_html(result, RESULTS / f'{name}.html')}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = settings_parser(__doc__, benchmark="quality", quick="CI-sized settings (a few minutes)")
    args = parser.parse_args(argv)
    name = args.name or ("quality_quick" if args.quick else "quality")
    if args.render_only:
        report(json.loads((RESULTS / f"{name}.json").read_text()), name)
        return
    base = QualitySettings.quick() if args.quick else QualitySettings()
    settings = base.model_copy(update=args.settings)
    report(run_quality(settings, wheels_dir=wheels_dir_of(args)), name)


if __name__ == "__main__":
    main()
