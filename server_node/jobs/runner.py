"""A job's stages on the durable engine, each stage's output checkpointed as an artifact.

generating -> grading (optional) -> rewriting (optional) -> training (optional). A stage whose output
is already recorded (the job was interrupted after it) is not run again. Progress, counts and timings
go to the job row as the work advances; cancel and shutdown are honoured at every batch and step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from server_node.adapters.intake import read_stored_adapter
from server_node.core.config import ServerSettings
from server_node.hosting import HostedModels
from server_node.inference.backend import InferenceBackend
from server_node.jobs.checks import wanted_per_condition
from server_node.jobs.store import job_queue
from server_node.models import Job, StoredAdapter, StoredSampleSet
from server_node.pipeline.choices import KnowledgeStart
from server_node.pipeline.distill import Parent, train_knowledge_adapter
from server_node.pipeline.generate import generate_samples
from server_node.pipeline.grade import TABLE_CRITERIA, grade_samples, passes
from server_node.pipeline.pool import ModelPool
from server_node.pipeline.rewrite import rewrite_samples
from server_node.pipeline.table_generate import generate_table_rows
from server_node.samples.intake import read_sample_set
from shared.adapters.codec import DecodedAdapter
from shared.durable import Control, Stages, Worker, WorkerTiming, execute
from shared.errors import PipelineError
from shared.lora import LoraSpec
from shared.privacy import DPCertificate
from shared.prompts import GenerationTemplate, RecordFormat
from shared.protocol import JobCreateRequest, JobStage, JobState, SyntheticSample
from shared.storage import ArtifactStore
from shared.tables import row_json
from shared.training import TrainConfig
from shared.training.data import physical_batch_for

logger = logging.getLogger(__name__)

Samples = list[dict[str, Any]]


@dataclass
class JobContext:
    """What a worker needs to run jobs."""

    settings: ServerSettings
    engine: Any
    store: ArtifactStore
    hosted: HostedModels
    pool: ModelPool
    backend: InferenceBackend


@dataclass
class _Source:
    """What a job generates from: a DP adapter, or the DP samples of a sample set."""

    hosted: Any
    parent: Parent
    lora: LoraSpec
    adapter: DecodedAdapter | None = None
    given: Samples = field(default_factory=list)


def run_job(ctx: JobContext, job_id: str, control: Control) -> None:
    """Run (or resume) a claimed job's stages; the durable engine records how it ended."""
    with Session(ctx.engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        request = JobCreateRequest.model_validate(job.request)
        stages, counts = Stages(control, job.checkpoints, job.timings), dict(job.counts or {})
        source = _source(ctx, request, session.get(StoredAdapter, job.adapter_id) if job.adapter_id else None,
                         session.get(StoredSampleSet, job.sample_set_id) if job.sample_set_id else None)
    control.write(compute={**ctx.pool.compute.as_dict(), "inference_backend": ctx.backend.name})
    table = source.parent.template.table  # a table adapter writes rows (HARMONIC); no rewriting of rows

    def stage(name: JobStage, run: Callable[[Samples], tuple[Samples, dict[str, int]]], samples: Samples) -> Samples:
        def work() -> str:
            out, new_counts = run(samples)
            counts.update(new_counts)
            control.write(counts=dict(counts))  # before the checkpoint: a rerun writes them again
            return ctx.store.put(json.dumps(out, ensure_ascii=False).encode())

        total = len(samples) or (request.n_samples if source.adapter is not None else len(source.given))
        return json.loads(ctx.store.get(stages.run(name.value, work, total=total, loads_models=True)))  # type: ignore[no-any-return]

    samples = stage(JobStage.GENERATING, lambda _: _generate(ctx, request, source, control), [])
    if request.grade:
        samples = stage(JobStage.GRADING, lambda s: _grade(ctx, request, s, table=table is not None, control=control,
                                                            template=source.parent.template), samples)
    else:
        counts.setdefault("kept", len(samples))
    if request.rewrite and table is None:
        samples = stage(JobStage.REWRITING, lambda s: _rewrite(ctx, request, s, control), samples)
    control.write(samples_sha256=ctx.store.put(_samples_jsonl(samples)), counts=dict(counts))
    if request.train_knowledge_adapter:
        [trained] = stage(JobStage.TRAINING, lambda s: _train(ctx, request, s, source, control), samples)
        control.write(adapter_sha256=trained["adapter_sha256"])


def _source(ctx: JobContext, request: JobCreateRequest, adapter_row: StoredAdapter | None,
            sample_set_row: StoredSampleSet | None) -> _Source:
    if adapter_row is not None:
        adapter = read_stored_adapter(ctx.store, adapter_row, max_bytes=ctx.settings.max_adapter_bytes)
        hosted = ctx.hosted.for_adapter(adapter.metadata.base_model, adapter.metadata.base_model_sha256)
        return _Source(hosted, Parent.of_adapter(adapter), adapter.metadata.lora, adapter=adapter)
    assert sample_set_row is not None
    given = read_sample_set(ctx.store, sample_set_row)
    record_format = RecordFormat.TEXT if given and given[0].get("text") else RecordFormat.INSTRUCTION_RESPONSE
    parent = Parent(GenerationTemplate.for_task(request.task.description, record_format=record_format),
                    DPCertificate.model_validate(sample_set_row.certificate), sample_set_row.sha256)
    return _Source(ctx.hosted.by_name(sample_set_row.base_model), parent,
                   LoraSpec.model_validate(sample_set_row.lora), given=given)


def _generate(ctx: JobContext, request: JobCreateRequest, source: _Source,
              control: Control) -> tuple[Samples, dict[str, int]]:
    adapter, table = source.adapter, source.parent.template.table
    if adapter is None:  # a sample set: the client generated them (DP) already
        return source.given, {"generated": len(source.given), "attempts": len(source.given)}
    if table is not None:  # rows need token-level control of decoding: always in this process
        model, tokenizer = ctx.pool.base_with_adapter(source.hosted, adapter)
        rows = generate_table_rows(
            model=model, tokenizer=tokenizer, template=adapter.metadata.template, n_rows=request.n_samples,
            sampling=request.sampling, settings=request.table, batch_size=ctx.settings.generation_batch_size,
            seed=request.seed, on_progress=control.progress)
        if not rows.rows:
            raise PipelineError(f"none of {rows.attempts} generations was a valid, new row",
                                detail={**rows.counts(), "reasons": dict(rows.reasons)})
        return [{"text": row_json(r, table.names)} for r in rows.rows], rows.counts()
    wanted = wanted_per_condition(request, adapter.metadata.template)
    with ctx.backend.sampler(source.hosted, adapter) as lm:
        result = generate_samples(
            lm=lm, template=adapter.metadata.template, n_samples=request.n_samples, sampling=request.sampling,
            batch_size=ctx.settings.generation_batch_size, seed=request.seed, embedder=ctx.pool.embedder(),
            similarity=request.dedup_similarity, on_progress=control.progress, wanted=wanted,
        )
    if not result.samples:
        raise PipelineError(f"none of {result.attempts} generations was a well-formed, new sample",
                            detail={"attempts": result.attempts, "malformed": result.malformed})
    samples = [{**s.fields, "conditions": dict(s.conditions)} if s.conditions else dict(s.fields)
               for s in result.samples]
    return samples, {"generated": len(result.samples), "attempts": result.attempts, "malformed": result.malformed,
                     "duplicates": result.duplicates}


def _grade(ctx: JobContext, request: JobCreateRequest, samples: Samples, *, table: bool,
           control: Control, template: GenerationTemplate | None = None) -> tuple[Samples, dict[str, int]]:
    labels = request.task.labels  # else a conditioned adapter's declared labels, checked against each given one
    if not labels and template is not None and template.conditions is not None:
        labels = template.conditions.labels
    grades = grade_samples(lm=ctx.backend.expert(), samples=samples, domain=request.task.domain,
                           chat=_expert_chat(ctx), labels=labels if not table else None,
                           label_prompt=request.task.label_question, method=ctx.settings.grading_method,
                           label_calibration=ctx.settings.label_calibration,
                           criteria=TABLE_CRITERIA if table else None, batch_size=ctx.settings.grading_batch_size,
                           on_progress=control.progress)
    graded = [{**s, "grade": g.score, "criteria": g.criteria, "reason": g.reason, "label": g.label}
              for s, g in zip(samples, grades, strict=True)]
    kept = [s for s, g in zip(graded, grades, strict=True)
            if passes(g, min_grade=request.min_grade, min_condition=request.min_condition)]
    if not kept:
        raise PipelineError(f"no sample reached min_grade {request.min_grade} (best "
                            f"{max(s['grade'] for s in graded):.3f})", detail={"generated": len(samples)})
    return kept, {"kept": len(kept), "dropped": len(graded) - len(kept)}


def _rewrite(ctx: JobContext, request: JobCreateRequest, samples: Samples,
             control: Control) -> tuple[Samples, dict[str, int]]:
    out = rewrite_samples(lm=ctx.backend.expert(), samples=samples, chat=_expert_chat(ctx), sampling=request.sampling,
                          batch_size=ctx.settings.generation_batch_size, seed=request.seed,
                          on_progress=control.progress)
    return [{**s, **r.fields, "rewritten": r.rewritten} for s, r in zip(samples, out, strict=True)], {
        "rewritten": sum(r.rewritten for r in out)}


def _train(ctx: JobContext, request: JobCreateRequest, samples: Samples, source: _Source,
           control: Control) -> tuple[Samples, dict[str, int]]:
    table = source.parent.template.table is not None
    loaded = ctx.pool.fresh_base(source.hosted)
    start = ctx.settings.knowledge_start if source.adapter is not None else KnowledgeStart.BASE  # DP samples: fresh
    data = train_knowledge_adapter(
        model=loaded.model, tokenizer=loaded.tokenizer, samples=samples, start=start,
        parent=source.adapter if start is KnowledgeStart.PARENT else source.parent, base=source.hosted.signature, description=request.task.description,
        config=_knowledge_config(ctx.settings, source.lora, table=table), table_neighbours=request.table.neighbours,
        seed=request.seed, on_step=lambda info: control.progress(info.step, info.total_steps), on_pass=control.check)
    return [{"adapter_sha256": ctx.store.put(data)}], {}


def _expert_chat(ctx: JobContext) -> bool:
    if ctx.hosted.expert is None:
        raise ValueError("this server hosts no expert model (PRIVSYNTH_SERVER_EXPERT_MODEL is empty)")
    return ctx.hosted.expert.chat


def _knowledge_config(settings: ServerSettings, lora: LoraSpec, *, table: bool = False) -> TrainConfig:
    return TrainConfig(epsilon=float("inf"), epochs=settings.knowledge_epochs, batch_size=settings.knowledge_batch_size,
                       learning_rate=settings.knowledge_learning_rate, lora=lora,
                       max_length=settings.knowledge_table_max_length if table else settings.knowledge_max_length,
                       max_physical_batch=physical_batch_for(settings.knowledge_table_max_length) if table else None,
                       device=settings.device, precision=settings.precision)


def _samples_jsonl(samples: Samples) -> bytes:
    lines = []
    for s in samples:
        sample = SyntheticSample(
            instruction=s.get("instruction", ""), input=s.get("input", ""), response=s.get("response", ""),
            text=s.get("text", ""), grade=s.get("grade"), criteria=s.get("criteria") or {}, reason=s.get("reason"),
            label=s.get("label"), conditions=s.get("conditions") or {}, rewritten=bool(s.get("rewritten", False)))
        lines.append(sample.model_dump_json())
    return ("\n".join(lines) + "\n").encode()


def run_claimed(ctx: JobContext, job_id: str) -> JobState:
    """Run one claimed job here, in the foreground, to its end (tests, benchmarks)."""
    return execute(job_queue(ctx.engine), job_id, partial(run_job, ctx))


def job_worker(ctx: JobContext) -> Worker:
    """A worker for this server's jobs, timed by its settings."""
    s = ctx.settings
    return Worker(job_queue(ctx.engine), partial(run_job, ctx), timing=WorkerTiming(
        poll_seconds=s.worker_poll_seconds, heartbeat_seconds=s.heartbeat_seconds, stale_seconds=s.job_stale_seconds,
        max_attempts=s.job_max_attempts))
