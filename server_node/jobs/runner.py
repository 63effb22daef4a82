"""Run one job through the pipeline stages, checkpointing each stage's output as an artifact.

generating -> grading (optional) -> rewriting (optional) -> training (optional). A stage whose output
is already recorded (the job was interrupted after it) is not run again. Progress, counts and timings
go to the job row as the work advances; the owner's cancel request is honoured between batches.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server_node.core.config import ServerSettings
from server_node.hosting import HostedModels
from server_node.inference.backend import InferenceBackend
from server_node.jobs.store import finish_job, update_job
from server_node.models import Job, StoredAdapter, StoredSampleSet
from server_node.pipeline.distill import Parent, train_knowledge_adapter
from server_node.pipeline.generate import generate_samples
from server_node.pipeline.grade import TABLE_CRITERIA, grade_samples, passes
from server_node.pipeline.pool import ModelPool
from server_node.pipeline.rewrite import rewrite_samples
from server_node.pipeline.table_generate import generate_table_rows
from server_node.samples.intake import read_sample_set
from shared.adapters import AdapterLimits, decode_adapter
from shared.compute import release_memory
from shared.errors import JobCancelledError, PipelineError, SynthError
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


class WorkerStopping(Exception):
    """The worker is shutting down: leave the job for the next start (it resumes from its checkpoint)."""


@dataclass
class JobContext:
    """What a worker needs to run jobs."""

    settings: ServerSettings
    engine: Any
    store: ArtifactStore
    hosted: HostedModels
    pool: ModelPool
    backend: InferenceBackend


class Reporter:
    """Writes a running job's stage and progress (at most every ``interval`` seconds) and raises when
    the job should stop."""

    def __init__(self, ctx: JobContext, job_id: str, *, stopping: Callable[[], bool], interval: float = 0.5) -> None:
        self.ctx, self.job_id, self.stopping, self.interval = ctx, job_id, stopping, interval
        self._last = 0.0

    def stage(self, stage: JobStage, total: int) -> None:
        self._write(force=True, stage=stage.value, progress_done=0, progress_total=total)

    def progress(self, done: int, total: int) -> None:
        self._write(force=False, progress_done=done, progress_total=total)

    def write(self, **values: Any) -> None:
        self._write(force=True, **values)

    def _write(self, *, force: bool, **values: Any) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            values = {}
        else:
            self._last = now
        if update_job(self.ctx.engine, self.job_id, **values):
            raise JobCancelledError("cancelled by its owner")
        if self.stopping():
            raise WorkerStopping


def run_job(ctx: JobContext, job_id: str, *, stopping: Callable[[], bool] = lambda: False) -> JobState:
    """Run (or resume) a claimed job to a terminal state; returns it (or RUNNING when the worker stops)."""
    reporter = Reporter(ctx, job_id, stopping=stopping)
    try:
        _run_stages(ctx, job_id, reporter)
    except WorkerStopping:
        logger.info("job %s left for the next start", job_id)
        return JobState.RUNNING
    except JobCancelledError:
        finish_job(ctx.engine, job_id, JobState.CANCELLED)
        return JobState.CANCELLED
    except SynthError as exc:
        logger.warning("job %s failed: %s", job_id, exc.message)
        finish_job(ctx.engine, job_id, JobState.FAILED, error=exc)
        return JobState.FAILED
    except Exception as exc:  # a bug or a resource failure: the job fails with a reason, the worker lives on
        logger.exception("job %s failed", job_id)
        finish_job(ctx.engine, job_id, JobState.FAILED, error=PipelineError(f"{type(exc).__name__}: {exc}"))
        return JobState.FAILED
    return JobState.SUCCEEDED


def _run_stages(ctx: JobContext, job_id: str, reporter: Reporter) -> None:
    with Session(ctx.engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        request = JobCreateRequest.model_validate(job.request)
        checkpoints, counts, timings = dict(job.checkpoints or {}), dict(job.counts or {}), dict(job.timings or {})
        adapter_row = session.get(StoredAdapter, job.adapter_id) if job.adapter_id else None
        sample_set_row = session.get(StoredSampleSet, job.sample_set_id) if job.sample_set_id else None
    reporter.write(compute={**ctx.pool.compute.as_dict(), "inference_backend": ctx.backend.name})
    adapter, given = None, []  # the DP adapter, or the DP samples a sample set brought
    if adapter_row is not None:
        adapter = decode_adapter(ctx.store.get(adapter_row.sha256), limits=AdapterLimits(
            max_total_bytes=max(ctx.settings.max_adapter_bytes, adapter_row.size_bytes), max_rank=1 << 16))
        hosted = ctx.hosted.for_adapter(adapter.metadata.base_model, adapter.metadata.base_model_sha256)
        parent, lora = Parent.of_adapter(adapter), adapter.metadata.lora
    else:
        assert sample_set_row is not None
        hosted = ctx.hosted.by_name(sample_set_row.base_model)
        given = read_sample_set(ctx.store, sample_set_row)
        record_format = RecordFormat.TEXT if given and given[0].get("text") else RecordFormat.INSTRUCTION_RESPONSE
        parent = Parent(GenerationTemplate.for_task(request.task.description, record_format=record_format),
                        DPCertificate.model_validate(sample_set_row.certificate), sample_set_row.sha256)
        lora = LoraSpec.model_validate(sample_set_row.lora)

    def stage(name: JobStage, run: Callable[[Samples], tuple[Samples, dict[str, int]]], samples: Samples) -> Samples:
        if name.value in checkpoints:
            return json.loads(ctx.store.get(checkpoints[name.value]))  # type: ignore[no-any-return]
        reporter.stage(name, total=len(samples) or (request.n_samples if adapter is not None else len(given)))
        start = time.perf_counter()
        out, new_counts = run(samples)
        release_memory()  # the stage's models are gone: give their heap back before the next stage loads its own
        checkpoints[name.value] = ctx.store.put(json.dumps(out, ensure_ascii=False).encode())
        counts.update(new_counts)
        timings[name.value] = round(time.perf_counter() - start, 3)
        reporter.write(checkpoints=dict(checkpoints), counts=dict(counts), timings=dict(timings))
        return out

    table = parent.template.table  # a table adapter writes rows (HARMONIC); no rewriting of rows

    def generate(_: Samples) -> tuple[Samples, dict[str, int]]:
        if adapter is None:  # a sample set: the client generated them (DP) already
            return given, {"generated": len(given), "attempts": len(given)}
        if table is not None:  # rows need token-level control of decoding: always in this process
            model, tokenizer = ctx.pool.base_with_adapter(hosted, adapter)
            rows = generate_table_rows(
                model=model, tokenizer=tokenizer, template=adapter.metadata.template, n_rows=request.n_samples,
                sampling=request.sampling, settings=request.table, batch_size=ctx.settings.generation_batch_size,
                seed=request.seed, on_progress=reporter.progress)
            if not rows.rows:
                raise PipelineError(f"none of {rows.attempts} generations was a valid, new row",
                                    detail={**rows.counts(), "reasons": dict(rows.reasons)})
            return [{"text": row_json(r, table.names)} for r in rows.rows], rows.counts()
        with ctx.backend.sampler(hosted, adapter) as lm:
            result = generate_samples(
                lm=lm, template=adapter.metadata.template, n_samples=request.n_samples,
                sampling=request.sampling, batch_size=ctx.settings.generation_batch_size, seed=request.seed,
                embedder=ctx.pool.embedder(), similarity=request.dedup_similarity, on_progress=reporter.progress,
            )
        if not result.samples:
            raise PipelineError(f"none of {result.attempts} generations was a well-formed, new sample",
                                detail={"attempts": result.attempts, "malformed": result.malformed})
        return [dict(s.fields) for s in result.samples], {
            "generated": len(result.samples), "attempts": result.attempts, "malformed": result.malformed,
            "duplicates": result.duplicates}

    def grade(samples: Samples) -> tuple[Samples, dict[str, int]]:
        grades = grade_samples(lm=ctx.backend.expert(), samples=samples, domain=request.task.domain,
                               chat=_expert_chat(ctx), labels=request.task.labels if table is None else None,
                               label_prompt=request.task.label_question, method=ctx.settings.grading_method,
                               criteria=TABLE_CRITERIA if table is not None else None,
                               batch_size=ctx.settings.grading_batch_size,
                               on_progress=reporter.progress)
        graded = [{**s, "grade": g.score, "criteria": g.criteria, "reason": g.reason, "label": g.label}
                  for s, g in zip(samples, grades, strict=True)]
        kept = [s for s, g in zip(graded, grades, strict=True)
                if passes(g, min_grade=request.min_grade, min_condition=request.min_condition)]
        if not kept:
            raise PipelineError(f"no sample reached min_grade {request.min_grade} (best "
                                f"{max(s['grade'] for s in graded):.3f})", detail={"generated": len(samples)})
        return kept, {"kept": len(kept), "dropped": len(graded) - len(kept)}

    def rewrite(samples: Samples) -> tuple[Samples, dict[str, int]]:
        out = rewrite_samples(lm=ctx.backend.expert(), samples=samples, chat=_expert_chat(ctx),
                              sampling=request.sampling, batch_size=ctx.settings.generation_batch_size,
                              seed=request.seed, on_progress=reporter.progress)
        return [{**s, **r.fields, "rewritten": r.rewritten} for s, r in zip(samples, out, strict=True)], {
            "rewritten": sum(r.rewritten for r in out)}

    samples = stage(JobStage.GENERATING, generate, [])
    if request.grade:
        samples = stage(JobStage.GRADING, grade, samples)
    else:
        counts.setdefault("kept", len(samples))
    if request.rewrite and table is None:
        samples = stage(JobStage.REWRITING, rewrite, samples)
    samples_sha = ctx.store.put(_samples_jsonl(samples))
    reporter.write(samples_sha256=samples_sha, counts=dict(counts))

    adapter_sha = None
    if request.train_knowledge_adapter:
        def train(samples: Samples) -> tuple[Samples, dict[str, int]]:
            loaded = ctx.pool.fresh_base(hosted)
            data = train_knowledge_adapter(
                model=loaded.model, tokenizer=loaded.tokenizer, samples=samples, parent=parent,
                base=hosted.signature, description=request.task.description, config=_knowledge_config(ctx.settings, lora, table=table is not None),
                table_neighbours=request.table.neighbours, seed=request.seed,
                on_step=lambda info: reporter.progress(info.step, info.total_steps))
            return [{"adapter_sha256": ctx.store.put(data)}], {}

        adapter_sha = stage(JobStage.TRAINING, train, samples)[0]["adapter_sha256"]
    finish_job(ctx.engine, job_id, JobState.SUCCEEDED, stage=None, adapter_sha256=adapter_sha)


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
            label=s.get("label"), rewritten=bool(s.get("rewritten", False)))
        lines.append(sample.model_dump_json())
    return ("\n".join(lines) + "\n").encode()
