"""Run one client run through its steps; each finished step is recorded, so a restart resumes after it.

training -> uploading -> server (create the job, poll it) -> downloading (verify with the codec) ->
evaluating. Only the adapter's bytes and JSON control messages go to the server (``ServerApi``). A run
interrupted *during* DP training is failed, not retrained: the ledger has charged the steps it took.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from client_node.core.context import ClientContext
from client_node.evaluation.leakage import membership_auc, sample_leakage
from client_node.evaluation.report import utility_report
from client_node.remote.server_api import ServerApi
from client_node.runs.schemas import RunCreateRequest, RunStage, RunState
from client_node.runs.store import finish_run, get_run, update_run
from client_node.training.private_run import run_private_training
from shared.adapters import AdapterLimits, decode_adapter
from shared.adapters.codec import DecodedAdapter
from shared.adapters.metadata import AdapterKind
from shared.errors import JobCancelledError, PipelineError, SynthError, TrainingConfigError
from shared.lora import LoraSpec
from shared.models.loading import load_causal_lm, signature_of
from shared.models.resolve import resolve_model
from shared.protocol import JobCreateRequest, JobState, TaskSpec
from shared.storage import ArtifactStore
from shared.training import TrainConfig

logger = logging.getLogger(__name__)


@dataclass
class RunContext:
    client: ClientContext
    api_factory: Callable[[str], ServerApi]
    sleep: Callable[[float], None] = time.sleep

    @property
    def artifacts(self) -> ArtifactStore:
        return ArtifactStore(self.client.settings.artifacts_dir)


class _Stopped(Exception):
    pass


def run_run(ctx: RunContext, run_id: str, *, stopping: Callable[[], bool] = lambda: False) -> RunState:
    """Run (or resume) a claimed run to a terminal state; RUNNING when the worker stopped first."""
    engine = ctx.client.ledger.engine
    try:
        _steps(ctx, run_id, stopping)
    except _Stopped:
        return RunState.RUNNING
    except JobCancelledError:
        finish_run(engine, run_id, RunState.CANCELLED)
        return RunState.CANCELLED
    except SynthError as exc:
        logger.warning("run %s failed: %s", run_id, exc.message)
        finish_run(engine, run_id, RunState.FAILED, error=exc)
        return RunState.FAILED
    except Exception as exc:
        logger.exception("run %s failed", run_id)
        finish_run(engine, run_id, RunState.FAILED, error=PipelineError(f"{type(exc).__name__}: {exc}"))
        return RunState.FAILED
    return RunState.SUCCEEDED


def _steps(ctx: RunContext, run_id: str, stopping: Callable[[], bool]) -> None:
    engine = ctx.client.ledger.engine
    row = get_run(engine, run_id)
    request = RunCreateRequest.model_validate(row.request)
    timings = dict(row.timings or {})
    store = ctx.artifacts

    def write(**values: Any) -> None:
        if update_run(engine, run_id, **values) == RunState.CANCELLED.value:
            raise JobCancelledError("cancelled by the operator")
        if stopping():
            raise _Stopped

    def timed(stage: RunStage, start: float) -> None:
        timings[stage.value] = round(timings.get(stage.value, 0.0) + time.perf_counter() - start, 3)
        write(timings=dict(timings))

    # 1. DP training (the only step that reads private records).
    if row.adapter_sha256 is None:
        if row.stage == RunStage.TRAINING.value:
            raise PipelineError("the client stopped during DP training; the ledger charged the steps taken. "
                                "Start a new run (its spend is checked against what is left).",
                                detail={"run_id": run_id})
        write(stage=RunStage.TRAINING.value, progress_done=0, progress_total=0)
        start = time.perf_counter()
        adapter_bytes, epsilon = _train(ctx, request, run_id, write)
        sha = store.put(adapter_bytes)
        write(adapter_sha256=sha, epsilon=epsilon)
        timed(RunStage.TRAINING, start)
        row = get_run(engine, run_id)
    dp = decode_adapter(store.get(row.adapter_sha256 or ""))

    with ctx.api_factory(row.server_url) as api:
        # 2. Upload (the server deduplicates by content, so a retried upload is harmless).
        if row.server_adapter_id is None:
            write(stage=RunStage.UPLOADING.value)
            start = time.perf_counter()
            uploaded = api.upload_adapter(store.get(dp.sha256))
            write(server_adapter_id=uploaded.adapter_id)
            timed(RunStage.UPLOADING, start)
            row = get_run(engine, run_id)
        # 3. The server's job: create once, then poll.
        write(stage=RunStage.SERVER.value)
        start = time.perf_counter()
        job_id = row.server_job_id
        if job_id is None:
            job = api.create_job(_job_request(ctx, request, row.server_adapter_id or "", dp))
            job_id = job.job_id
            write(server_job_id=job_id, server_job=job.model_dump(mode="json"))
        job = api.job(job_id)
        while not job.state.terminal:
            write(server_job=job.model_dump(mode="json"), progress_done=job.progress.done, progress_total=job.progress.total)
            ctx.sleep(request.poll_seconds)
            job = api.job(job_id)
        write(server_job=job.model_dump(mode="json"))
        timed(RunStage.SERVER, start)
        if job.state is not JobState.SUCCEEDED:
            error = job.error
            raise PipelineError(f"the server's job {job.state.value}" + (f": {error.message}" if error else ""),
                                detail={"job_id": job_id, "server_error": error.model_dump() if error else None})
        # 4. Download and verify.
        write(stage=RunStage.DOWNLOADING.value)
        start = time.perf_counter()
        samples = api.samples(job_id)
        samples_sha = store.put(("".join(s.model_dump_json() + "\n" for s in samples)).encode())
        knowledge = None
        if request.train_knowledge_adapter:
            data = api.knowledge_adapter(job_id)
            knowledge = verify_knowledge_adapter(ctx, data, parent=dp)
            write(knowledge_sha256=store.put(data))
        write(samples_sha256=samples_sha)
        timed(RunStage.DOWNLOADING, start)
    # 5. Evaluate locally, on records that never left.
    write(stage=RunStage.EVALUATING.value)
    start = time.perf_counter()
    dataset = ctx.client.datasets.get(request.dataset_id)
    base = resolve_model(ctx.client.settings.base_model)
    report = {"utility": utility_report(base, dataset.holdout_records, dp=dp,
                                        knowledge=knowledge, max_length=request.max_length),
              "samples": {"received": len(samples), "kept": job.counts.kept, "generated": job.counts.generated,
                          "rewritten": job.counts.rewritten},
              "privacy": {"epsilon": dp.metadata.certificate.epsilon, "delta": dp.metadata.certificate.delta,
                          "samples": sample_leakage([s.content() for s in samples], dataset.train_records),
                          "membership_inference": membership_auc(base, dp, dataset.train_records,
                                                                 dataset.holdout_records, max_length=request.max_length)}}
    timed(RunStage.EVALUATING, start)
    finish_run(engine, run_id, RunState.SUCCEEDED, stage=None, report=_finite(report))


def _train(ctx: RunContext, request: RunCreateRequest, run_id: str, write: Callable[..., None]) -> tuple[bytes, float]:
    dataset = ctx.client.datasets.get(request.dataset_id)
    config = TrainConfig(epsilon=request.epsilon, epochs=request.epochs, learning_rate=request.learning_rate,
                         batch_size=min(request.batch_size, len(dataset.train_records)), max_length=request.max_length,
                         lora=LoraSpec(r=request.lora_rank, alpha=2.0 * request.lora_rank,
                                       target_modules=tuple(request.lora_targets)))
    if config.batch_size < 1:
        raise TrainingConfigError("the dataset has no training records")
    loaded = load_causal_lm(ctx.client.settings.base_model, prepare=True)
    run = run_private_training(dataset=dataset, ledger=ctx.client.ledger, config=config, model=loaded.model,
                               tokenizer=loaded.tokenizer, base=loaded.signature(), run_id=run_id, progress=False,
                               on_step=lambda info: write(progress_done=info.step, progress_total=info.total_steps))
    return run.adapter, run.result.certificate.epsilon


def _job_request(ctx: RunContext, request: RunCreateRequest, adapter_id: str, dp: DecodedAdapter) -> JobCreateRequest:
    dataset = ctx.client.datasets.get(request.dataset_id)
    return JobCreateRequest(
        adapter_id=adapter_id, task=TaskSpec(domain=request.domain or dataset.name, description=dataset.task,
                                             labels=request.labels),
        n_samples=request.n_samples, sampling=request.sampling, min_grade=request.min_grade,
        min_condition=request.min_condition, grade=request.grade, rewrite=request.rewrite, train_knowledge_adapter=request.train_knowledge_adapter)


def verify_knowledge_adapter(ctx: RunContext, data: bytes, *, parent: DecodedAdapter) -> DecodedAdapter:
    """The server's adapter must fit our base model and carry our adapter's guarantee, unchanged."""
    base = signature_of(resolve_model(ctx.client.settings.base_model))
    knowledge = decode_adapter(data, limits=AdapterLimits(max_total_bytes=max(len(data), 1)), base=base)
    cert, ours = knowledge.metadata.certificate, parent.metadata.certificate
    if knowledge.metadata.kind is not AdapterKind.KNOWLEDGE or cert.inherited_from != parent.sha256 or \
            (cert.epsilon, cert.delta) != (ours.epsilon, ours.delta):
        raise PipelineError("the server's knowledge adapter does not carry this run's DP certificate",
                            detail={"inherited_from": cert.inherited_from, "expected": parent.sha256})
    return knowledge


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value
