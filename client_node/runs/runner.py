"""A client run's stages on the durable engine; each finished stage is checkpointed, so a restart resumes
after it.

training (or generating, for the training-free generator) -> uploading -> server (create the job, poll
it) -> downloading (verify with the codec) -> evaluating. Only the DP step's output (the adapter's bytes,
or the DP samples with their certificate) and JSON control messages go to the server (``ServerApi``). A
run interrupted *during* its DP step is failed, not redone: the ledger has charged what it spent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from client_node.core.context import ClientContext
from client_node.datasets.store import StoredDataset
from client_node.evaluation.leakage import membership_auc, sample_leakage
from client_node.evaluation.report import utility_report
from client_node.evaluation.tabular.report import table_report
from client_node.evaluation.utility.tstr import condition_tstr
from client_node.remote.server_api import ServerApi
from client_node.runs.schemas import Generator, RunCreateRequest, RunStage, RunState
from client_node.runs.store import get_run, run_queue
from client_node.tables.marginals import run_marginals
from client_node.tables.training import run_table_training
from client_node.training.private_run import run_private_training
from client_node.voting.run import VoteConfig, run_vote_generation
from shared.adapters import AdapterLimits, decode_adapter
from shared.adapters.codec import DecodedAdapter
from shared.adapters.metadata import AdapterKind
from shared.compute import Compute, resolve_compute
from shared.conditions import LABEL, count_by_condition
from shared.durable import Cancelled, Control, Stages, Worker, WorkerTiming, execute
from shared.errors import PipelineError, StageInterruptedError, TrainingConfigError
from shared.lora import LoraSpec
from shared.models.loading import load_for, signature_of
from shared.models.resolve import resolve_model
from shared.privacy import DPCertificate, Mechanism
from shared.protocol import (
    ConditionShare,
    JobCreateRequest,
    JobPublic,
    JobState,
    SampleIn,
    SampleSetCreate,
    SyntheticSample,
    TableJobSettings,
    TaskSpec,
)
from shared.storage import ArtifactStore
from shared.tables import parse_row_json, row_json
from shared.training import PrivateLoraTrainer, TrainConfig, TrainResult
from shared.training.config import default_delta

logger = logging.getLogger(__name__)


@dataclass
class RunContext:
    client: ClientContext
    api_factory: Callable[[str], ServerApi]
    sleep: Callable[[float], None] = time.sleep

    @property
    def artifacts(self) -> ArtifactStore:
        return ArtifactStore(self.client.settings.artifacts_dir)


def run_run(ctx: RunContext, run_id: str, control: Control) -> None:
    """Run (or resume) a claimed run's stages; the durable engine records how it ended."""
    row = get_run(ctx.client.ledger.engine, run_id)
    request = RunCreateRequest.model_validate(row.request)
    stages = Stages(control, row.checkpoints, row.timings)
    if request.generator is Generator.MARGINALS:
        run_marginal_run(ctx, request, run_id, stages, control)
        return
    store = ctx.artifacts
    # 1. The DP step, the only one that reads private records: DP training, or training-free DP generation.
    #    At most once: an interrupted one fails the run, charged what the ledger recorded before each step.
    dp_stage = RunStage.GENERATING if request.generator is Generator.VOTES else RunStage.TRAINING
    make = _dp_samples if dp_stage is RunStage.GENERATING else _dp_adapter
    dp_sha = _dp_step(ctx, stages, run_id, dp_stage, lambda: make(ctx, request, run_id, control), loads_models=True,
                      total=request.n_samples if dp_stage is RunStage.GENERATING else 0)
    dp, sample_set, document = None, None, None
    if dp_stage is RunStage.GENERATING:
        document = json.loads(store.get(dp_sha))
        sample_set = SampleSetCreate.model_validate(document["sample_set"])
        parent_sha256, certificate = hashlib.sha256(sample_set.canonical_jsonl()).hexdigest(), sample_set.certificate
    else:
        dp = decode_adapter(store.get(dp_sha))
        parent_sha256, certificate = dp.sha256, dp.metadata.certificate
    with ctx.api_factory(row.server_url) as api:
        # 2. Upload (the server deduplicates by content, so a retried upload is harmless).
        sent = stages.run(RunStage.UPLOADING.value, lambda: _upload(ctx, api, dp, sample_set, parent_sha256, control))
        # 3. The server's job: created once (its id recorded at once), then polled.
        final = stages.run(RunStage.SERVER.value, lambda: _server_job(ctx, api, request, run_id, sent, control))
        job = JobPublic.model_validate(final)
        # 4. Download and verify.
        got = stages.run(RunStage.DOWNLOADING.value, lambda: _download(
            ctx, api, request, job.job_id, parent_sha256=parent_sha256, certificate=certificate, control=control))
    samples = [SyntheticSample.model_validate_json(line) for line in store.get(got["samples"]).splitlines() if line]
    knowledge = decode_adapter(store.get(got["knowledge"])) if got.get("knowledge") else None
    # 5. Evaluate locally, on records that never left.

    def evaluate() -> str:
        dataset = ctx.client.datasets.get(request.dataset_id)
        max_length = request.max_length_for(table=dataset.schema is not None)
        if dataset.schema is not None:
            report = _table_report(ctx, request, dataset, samples, job, dp, knowledge, certificate, max_length)
        else:
            report = _text_report(ctx, request, dataset, samples, job, dp, knowledge, certificate, max_length,
                                  sample_set, document)
        report["training"] = get_run(ctx.client.ledger.engine, run_id).training  # how the DP step went
        report["compute"] = run_compute(ctx, request).as_dict()
        control.write(report=_finite(report))
        return "report"

    stages.run(RunStage.EVALUATING.value, evaluate, loads_models=True)


def run_marginal_run(ctx: RunContext, request: RunCreateRequest, run_id: str, stages: Stages, control: Control) -> None:
    """A table synthesized from DP marginals, all on the client: release and sample (once), then evaluate."""
    _dp_step(ctx, stages, run_id, RunStage.GENERATING, lambda: _marginal_rows(ctx, request, run_id, control))

    def evaluate() -> str:
        row = get_run(ctx.client.ledger.engine, run_id)
        dataset = ctx.client.datasets.get(request.dataset_id)
        assert dataset.schema is not None and row.samples_sha256 is not None
        rows = [r for r in (parse_row_json(SyntheticSample.model_validate_json(line).text)
                            for line in ctx.artifacts.get(row.samples_sha256).splitlines() if line) if r is not None]
        report = table_report(base=resolve_model(ctx.client.settings.base_model), schema=dataset.schema,
                              train=dataset.train_rows, holdout=dataset.holdout_rows, synthetic=rows, generators={})
        training = row.training or {}
        report["privacy"] = {"epsilon": row.epsilon, "delta": training.get("release", {}).get("delta"),
                             "mechanism": Mechanism.MARGINALS.value, "accountant": "rdp", **report["privacy"]}
        report["samples"] = {"rows": len(rows)}
        report["training"] = training
        control.write(report=_finite(report))
        return "report"

    stages.run(RunStage.EVALUATING.value, evaluate)


def _dp_step(ctx: RunContext, stages: Stages, run_id: str, stage: RunStage, work: Callable[[], str], *,
             loads_models: bool = False, total: int = 0) -> str:
    """The run's DP step, at most once: one interrupted before it finished fails the run, and its ledger runs
    close charged with what they recorded before each step."""
    try:
        return stages.run(stage.value, work, once=True, loads_models=loads_models, total=total,
                          interrupted=f"the client stopped during the DP step ({stage.value}); the ledger charged "
                                      "what it spent. Start a new run (its spend is checked against what is left).")
    except StageInterruptedError:
        ctx.client.ledger.close_interrupted(run_id)
        raise


def _marginal_rows(ctx: RunContext, request: RunCreateRequest, run_id: str, control: Control) -> str:
    dataset = ctx.client.datasets.get(request.dataset_id)
    assert dataset.schema is not None
    rows = dataset.train_rows
    run = run_marginals(dataset_id=dataset.dataset_id, rows=rows, schema=dataset.schema, ledger=ctx.client.ledger,
                        epsilon=request.epsilon, delta=default_delta(len(rows)), settings=request.marginals,
                        rng=np.random.default_rng(), run_id=run_id)
    names = dataset.schema.names
    lines = "".join(SyntheticSample(text=row_json(r, names)).model_dump_json() + "\n" for r in run.rows)
    sha = ctx.artifacts.put(lines.encode())
    control.write(samples_sha256=sha, epsilon=run.release.epsilon, training=_finite(run.as_dict()))
    return sha


def _dp_adapter(ctx: RunContext, request: RunCreateRequest, run_id: str, control: Control) -> str:
    adapter_bytes, epsilon, training = _train(ctx, request, run_id, control)
    sha = ctx.artifacts.put(adapter_bytes)
    control.write(adapter_sha256=sha, epsilon=epsilon, training=training)
    return sha


def _dp_samples(ctx: RunContext, request: RunCreateRequest, run_id: str, control: Control) -> str:
    made, generation = _generate_votes(ctx, request, run_id, control)
    document = {"sample_set": json.loads(made.model_dump_json()), "generation": generation}
    sha = ctx.artifacts.put(json.dumps(document).encode())
    control.write(sample_set_sha256=sha, epsilon=made.certificate.epsilon)
    return sha


def _upload(ctx: RunContext, api: ServerApi, dp: DecodedAdapter | None, sample_set: SampleSetCreate | None,
            parent_sha256: str, control: Control) -> dict[str, str | None]:
    if dp is not None:
        adapter_id = api.upload_adapter(ctx.artifacts.get(dp.sha256)).adapter_id
        control.write(server_adapter_id=adapter_id)
        return {"adapter_id": adapter_id, "sample_set_id": None}
    assert sample_set is not None
    stored = api.upload_sample_set(sample_set)
    if stored.sha256 != parent_sha256:
        raise PipelineError("the server stored other samples than were sent",
                            detail={"sent": parent_sha256, "stored": stored.sha256})
    control.write(server_sample_set_id=stored.sample_set_id)
    return {"adapter_id": None, "sample_set_id": stored.sample_set_id}


def _server_job(ctx: RunContext, api: ServerApi, request: RunCreateRequest, run_id: str, sent: dict[str, Any],
                control: Control) -> dict[str, Any]:
    """Create the server's job once (its id is recorded before anything else), poll it to its end; a
    cancelled run cancels its job."""
    row = get_run(ctx.client.ledger.engine, run_id)
    job_id = row.server_job_id
    if job_id is None:
        created = api.create_job(_job_request(ctx, request, adapter_id=sent["adapter_id"],
                                              sample_set_id=sent["sample_set_id"], training=row.training))
        job_id = created.job_id
        control.write(server_job_id=job_id, server_job=created.model_dump(mode="json"))
    job = api.job(job_id)
    try:
        while not job.state.terminal:
            control.write(server_job=job.model_dump(mode="json"), progress_done=job.progress.done,
                          progress_total=job.progress.total)
            ctx.sleep(request.poll_seconds)
            job = api.job(job_id)
    except Cancelled:
        api.cancel_job(job_id)
        raise
    control.write(server_job=job.model_dump(mode="json"))
    if job.state is not JobState.SUCCEEDED:
        error = job.error
        raise PipelineError(f"the server's job {job.state.value}" + (f": {error.message}" if error else ""),
                            detail={"job_id": job_id, "server_error": error.model_dump() if error else None})
    return job.model_dump(mode="json")


def _download(ctx: RunContext, api: ServerApi, request: RunCreateRequest, job_id: str, *, parent_sha256: str,
              certificate: DPCertificate, control: Control) -> dict[str, str | None]:
    samples = api.samples(job_id)
    samples_sha = ctx.artifacts.put(("".join(s.model_dump_json() + "\n" for s in samples)).encode())
    knowledge_sha = None
    if request.train_knowledge_adapter:
        data = api.knowledge_adapter(job_id)
        verify_knowledge_adapter(ctx, data, parent_sha256=parent_sha256, certificate=certificate)
        knowledge_sha = ctx.artifacts.put(data)
    control.write(samples_sha256=samples_sha, knowledge_sha256=knowledge_sha)
    return {"samples": samples_sha, "knowledge": knowledge_sha}


def _privacy_head(certificate: DPCertificate) -> dict[str, Any]:
    head = {"epsilon": certificate.epsilon, "delta": certificate.delta, "mechanism": certificate.mechanism.value,
            "accountant": certificate.accountant.value}
    if certificate.accountant.value not in {"rdp", "none"}:  # the ledger's figure for this run differs
        head["ledger_note"] = (f"this certificate's epsilon comes from the {certificate.accountant.value.upper()} "
                               "accountant; the dataset's ledger composes every run with the RDP accountant, so it "
                               "charges this run somewhat more")
    return head


def _text_report(ctx: RunContext, request: RunCreateRequest, dataset: StoredDataset, samples: list[SyntheticSample],
                 job: JobPublic, dp: DecodedAdapter | None, knowledge: DecodedAdapter | None,
                 certificate: DPCertificate, max_length: int, sample_set: SampleSetCreate | None,
                 document: dict[str, Any] | None) -> dict[str, Any]:
    released = dp or knowledge  # the model a member-inference attacker would query
    privacy: dict[str, Any] = {**_privacy_head(certificate),
                               "samples": sample_leakage([s.content() for s in samples], dataset.train_records)}
    if sample_set is not None and document is not None:
        privacy["generation"] = document["generation"]
        privacy["sent_samples"] = sample_leakage([_content(x) for x in sample_set.samples], dataset.train_records)
    # one base model for every measure, for the length of the evaluation; adapters come and go on it
    loaded = load_for(ctx.client.settings.base_model, run_compute(ctx, request))
    if released is not None:
        privacy["membership_inference"] = membership_auc(loaded, released, dataset.train_records,
                                                         dataset.holdout_records, max_length=max_length)
    utility = utility_report(loaded, dataset.holdout_records, dp=dp, knowledge=knowledge, max_length=max_length)
    if dataset.conditions is not None and dataset.conditions.labels:
        utility["tstr"] = condition_tstr([(s.response or s.text, s.conditions.get(LABEL)) for s in samples],
                                         dataset.train_records, dataset.holdout_records)
    counts: dict[str, Any] = {"received": len(samples), "kept": job.counts.kept, "generated": job.counts.generated,
                              "rewritten": job.counts.rewritten}
    if dataset.conditions is not None:
        counts["per_condition"] = count_by_condition(s.conditions for s in samples)
    return {"utility": utility, "samples": counts, "privacy": privacy}


def _table_report(ctx: RunContext, request: RunCreateRequest, dataset: StoredDataset, samples: list[SyntheticSample],
                  job: JobPublic, dp: DecodedAdapter | None, knowledge: DecodedAdapter | None,
                  certificate: DPCertificate, max_length: int) -> dict[str, Any]:
    assert dataset.schema is not None
    rows = [r for r in (parse_row_json(s.text) for s in samples) if r is not None]
    generators = {name: a for name, a in (("dp_adapter", dp), ("knowledge_adapter", knowledge)) if a is not None}
    report = table_report(base=resolve_model(ctx.client.settings.base_model), schema=dataset.schema,
                          train=dataset.train_rows, holdout=dataset.holdout_rows, synthetic=rows, generators=generators,
                          max_length=max_length, compute=run_compute(ctx, request))
    report["privacy"] = {**_privacy_head(certificate), **report["privacy"]}
    report["samples"] = {"received": len(samples), "rows": len(rows), "generated": job.counts.generated,
                         "attempts": job.counts.attempts, "invalid": job.counts.invalid,
                         "malformed": job.counts.malformed, "duplicates": job.counts.duplicates, "kept": job.counts.kept}
    return report


def _content(sample: SampleIn) -> str:
    return "\n".join(v for v in (sample.instruction, sample.input, sample.response, sample.text) if v)


def _generate_votes(ctx: RunContext, request: RunCreateRequest, run_id: str,
                    control: Control) -> tuple[SampleSetCreate, dict[str, Any]]:
    """The DP samples as a sample set, and how they were made (the plan: epsilon per token and per sample,
    tokens spent per label, counts)."""
    dataset = ctx.client.datasets.get(request.dataset_id)
    v = request.votes
    config = VoteConfig(epsilon=request.epsilon, noise=v.noise, n_samples=request.n_samples,
                        max_new_tokens=v.max_new_tokens, groups=v.groups, shots=v.shots, candidates=v.candidates,
                        vote=v.vote, labels=request.labels, prefix=v.prefix)
    loaded = load_for(ctx.client.settings.base_model, run_compute(ctx, request), prepare=True)
    run = run_vote_generation(dataset_id=dataset.dataset_id, task=dataset.task, records=dataset.train_records,
                              ledger=ctx.client.ledger, config=config, model=loaded.model, tokenizer=loaded.tokenizer,
                              run_id=run_id, on_sample=control.progress, conditions=dataset.conditions)
    if not run.samples:
        raise PipelineError("training-free generation produced no well-formed sample", detail={"counts": run.counts})
    fields = ("instruction", "input", "response", "text", "conditions")
    made = SampleSetCreate(samples=[SampleIn(**{k: x[k] for k in fields if x.get(k)}) for x in run.samples],
                           certificate=run.certificate, base_model=loaded.signature().weights_sha256,
                           lora=_lora(request))
    generation = {"plan": run.plan.as_dict(), "tokens_spent": run.tokens_spent, "counts": run.counts,
                  "groups": run.groups}
    return made, generation


def _lora(request: RunCreateRequest) -> LoraSpec:
    return LoraSpec(r=request.lora_rank, alpha=2.0 * request.lora_rank, target_modules=tuple(request.lora_targets))


def run_compute(ctx: RunContext, request: RunCreateRequest) -> Compute:
    """The run's device and precision: its own request's, else the node's settings; ``auto`` decided here."""
    settings = ctx.client.settings
    return resolve_compute(request.device or settings.device, request.precision or settings.precision)


def _train_config(ctx: RunContext, request: RunCreateRequest, dataset: StoredDataset) -> TrainConfig:
    compute = run_compute(ctx, request)
    config = TrainConfig(epsilon=request.epsilon, epochs=request.epochs, max_steps=request.max_steps,
                         learning_rate=request.learning_rate,
                         batch_size=min(request.batch_size, len(dataset.train_records)),
                         max_length=request.max_length_for(table=dataset.schema is not None), lora=_lora(request),
                         device=compute.device, precision=compute.precision)
    if config.batch_size < 1:
        raise TrainingConfigError("the dataset has no training records")
    return config


def _train(ctx: RunContext, request: RunCreateRequest, run_id: str,
           control: Control) -> tuple[bytes, float, dict[str, Any]]:
    """The DP adapter's bytes, its epsilon and a summary of training: how many examples ``max_length`` cut
    (for every run: ``client-node run`` warns about them), and for a table how its examples were built, for
    conditioned records the released counts."""
    dataset = ctx.client.datasets.get(request.dataset_id)
    config = _train_config(ctx, request, dataset)
    # the bar's total before the model loads: the planned steps
    control.write(progress_total=PrivateLoraTrainer(config=config, progress=False).plan(len(dataset.train_records)).steps)
    loaded = load_for(ctx.client.settings.base_model, run_compute(ctx, request), prepare=True)
    on_step = lambda info: control.progress(info.step, info.total_steps)  # noqa: E731
    if dataset.schema is not None:
        table = run_table_training(dataset=dataset, ledger=ctx.client.ledger, config=config, settings=request.table,
                                   model=loaded.model, tokenizer=loaded.tokenizer, base=loaded.signature(), run_id=run_id,
                                   progress=False, on_step=on_step, on_pass=control.check)
        training = _finite(table.as_dict() | _cut_examples(table.result, config))
        if table.example_rows:  # kept for the job's prompts (rows of the pool's DP release)
            training["example_rows_sha256"] = ctx.artifacts.put(
                "".join(row_json(r, dataset.schema.names) + "\n" for r in table.example_rows).encode())
        return table.adapter, table.result.certificate.epsilon, training
    run = run_private_training(dataset=dataset, ledger=ctx.client.ledger, config=config, model=loaded.model,
                               tokenizer=loaded.tokenizer, base=loaded.signature(), run_id=run_id, progress=False,
                               on_step=on_step, on_pass=control.check)
    counts = run.condition_counts
    training = _cut_examples(run.result, config) | ({"condition_counts": counts.as_dict()} if counts else {})
    return run.adapter, run.result.certificate.epsilon, _finite(training)


def _cut_examples(result: TrainResult, config: TrainConfig) -> dict[str, Any]:
    """What ``client-node run`` needs to warn that ``max_length`` cut records, the same for text and tables."""
    return {"records": result.plan.n_records, "max_length": config.max_length,
            "truncated_examples": result.truncated_examples}


def _job_request(ctx: RunContext, request: RunCreateRequest, *, adapter_id: str | None,
                 sample_set_id: str | None, training: dict[str, Any] | None = None) -> JobCreateRequest:
    dataset = ctx.client.datasets.get(request.dataset_id)
    table = dataset.schema is not None
    return JobCreateRequest(
        adapter_id=adapter_id, sample_set_id=sample_set_id,
        task=TaskSpec(domain=request.domain or dataset.name, description=dataset.task,
                      labels=None if table else request.labels or (dataset.conditions and dataset.conditions.labels)),
        table=TableJobSettings(neighbours=request.table.neighbours, label_shares=label_shares(training),
                               example_rows=example_rows(ctx, training)),
        condition_shares=condition_shares(training),
        n_samples=request.n_samples, sampling=request.sampling, min_grade=request.min_grade,
        min_condition=request.min_condition, grade=request.grade, rewrite=request.rewrite,
        train_knowledge_adapter=request.train_knowledge_adapter)


def label_shares(training: dict[str, Any] | None) -> dict[str, float] | None:
    """The training summary's rows per label, normalized: under DP the reference pool's estimates (post-
    processing of its DP release, so safe to send), in a non-private run the exact counts. The server then
    writes rows in these proportions instead of the model's own."""
    estimates = (training or {}).get("label_rows")
    if not estimates:
        return None
    total = sum(max(0.0, float(v)) for v in estimates.values())
    return {k: round(max(0.0, float(v)) / total, 4) for k, v in estimates.items()} if total > 0 else None


def example_rows(ctx: RunContext, training: dict[str, Any] | None) -> list[dict[str, str]] | None:
    """The reference rows the training step kept for the job's prompts (rows of the pool's DP release)."""
    sha = (training or {}).get("example_rows_sha256")
    if not sha:
        return None
    return [json.loads(line) for line in ctx.artifacts.get(sha).decode().splitlines() if line]


def condition_shares(training: dict[str, Any] | None) -> list[ConditionShare] | None:
    """The released condition counts' shares (post-processing of the DP release in the training run; exact
    in a non-private run): the server writes samples per combination in these proportions."""
    counts = (training or {}).get("condition_counts")
    if not counts:
        return None
    return [ConditionShare(conditions=s["conditions"], share=s["share"]) for s in counts["shares"]]


def verify_knowledge_adapter(ctx: RunContext, data: bytes, *, parent_sha256: str,
                             certificate: DPCertificate) -> DecodedAdapter:
    """The server's adapter must fit our base model and carry our DP step's guarantee, unchanged."""
    base = signature_of(resolve_model(ctx.client.settings.base_model))
    knowledge = decode_adapter(data, limits=AdapterLimits(max_total_bytes=max(len(data), 1)), base=base)
    cert = knowledge.metadata.certificate
    if knowledge.metadata.kind is not AdapterKind.KNOWLEDGE or cert.inherited_from != parent_sha256 or \
            (cert.epsilon, cert.delta) != (certificate.epsilon, certificate.delta):
        raise PipelineError("the server's knowledge adapter does not carry this run's DP certificate",
                            detail={"inherited_from": cert.inherited_from, "expected": parent_sha256})
    return knowledge


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def run_claimed(ctx: RunContext, run_id: str, *, stopping: Callable[[], bool] = lambda: False) -> RunState:
    """Run one claimed run here, in the foreground, to its end (the CLI; RUNNING if ``stopping`` came first)."""
    return execute(run_queue(ctx.client.ledger.engine), run_id, partial(run_run, ctx), stopping=stopping)


def run_worker(ctx: RunContext) -> Worker:
    """The client service's worker: one run at a time, in queue order."""
    return Worker(run_queue(ctx.client.ledger.engine), partial(run_run, ctx), timing=WorkerTiming(poll_seconds=0.5))
