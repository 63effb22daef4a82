"""The whole server pipeline on the real bundled models: a real DP adapter on SmolLM2, generation with
MiniLM de-duplication, Gemma grading and rewriting, and the knowledge adapter."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from client_node.datasets.demo import clinic_records
from client_node.training.export import export_adapter
from server_node.adapters.intake import accept_adapter
from server_node.core.config import ServerSettings
from server_node.core.security import create_token
from server_node.jobs.runner import run_claimed
from server_node.jobs.store import create_job, job_queue, to_public
from server_node.models import Job
from server_node.state import ServerState
from shared.adapters import decode_adapter
from shared.adapters.metadata import AdapterKind
from shared.constants import DEFAULT_BASE_MODEL
from shared.lora import LoraSpec
from shared.models.loading import load_causal_lm
from shared.privacy import Mechanism
from shared.prompts import GenerationTemplate
from shared.protocol import JobCreateRequest, JobState, SamplingParams, SyntheticSample, TaskSpec
from shared.training import PrivateLoraTrainer, TrainConfig

TASK = "patient questions to a clinic and the clinic's answers"


@pytest.fixture(scope="module")
def dp_adapter(model_settings) -> bytes:
    """A small real DP run (eps 8): enough to exercise the path, not to write good records."""
    loaded = load_causal_lm(DEFAULT_BASE_MODEL, settings=model_settings)
    template = GenerationTemplate.for_task(TASK)
    config = TrainConfig(epsilon=8.0, epochs=1, batch_size=16, lora=LoraSpec(r=4, alpha=8, target_modules=("q_proj", "v_proj")))
    result = PrivateLoraTrainer(config=config, progress=False).train(
        model=loaded.model, tokenizer=loaded.tokenizer, records=clinic_records(64, seed=3), template=template)
    return export_adapter(result, base=loaded.signature(), template=template)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_job_on_real_models_produces_graded_rewritten_samples_and_a_knowledge_adapter(tmp_path, dp_adapter,
                                                                                      device) -> None:
    settings = ServerSettings(data_dir=tmp_path, workers=0, generation_batch_size=6, knowledge_epochs=1, device=device)
    state = ServerState.from_settings(settings)
    with Session(state.engine, expire_on_commit=False) as session:
        client, _ = create_token(session, name="hospital")
        adapter = accept_adapter(dp_adapter, owner_id=client.client_id, session=session, hosted=state.hosted,
                                 store=state.store, policy=state.policy)
        request = JobCreateRequest(adapter_id=adapter.adapter_id, task=TaskSpec(domain="clinic questions", description=TASK),
                                   n_samples=4, sampling=SamplingParams(temperature=0.8, max_new_tokens=80), min_grade=0.0)
        job_id = create_job(session, owner_id=client.client_id, request=request).job_id
    assert job_queue(state.engine).claim("test") == job_id
    assert run_claimed(state.jobs, job_id) is JobState.SUCCEEDED
    with Session(state.engine) as session:
        job = session.get(Job, job_id)
        public = to_public(job)
        samples_sha, adapter_sha = job.samples_sha256, job.adapter_sha256
    assert public.counts.generated >= 1 and public.counts.kept == public.counts.generated
    assert set(public.timings) == {"generating", "grading", "rewriting", "training"}
    assert public.compute is not None and public.compute["device"].startswith(device)
    assert public.compute["precision"] in {"fp32", "bf16"} and public.compute["cpu_class"]

    samples = [SyntheticSample.model_validate(json.loads(line)) for line in state.store.get(samples_sha).decode().splitlines()]
    assert samples and all(s.instruction and s.response and 0.0 <= (s.grade or -1) <= 1.0 for s in samples)
    assert public.counts.rewritten == sum(s.rewritten for s in samples)

    knowledge = decode_adapter(state.store.get(adapter_sha), base=state.hosted.for_adapter(
        adapter.base_model, next(iter(state.hosted.base))).signature)
    assert knowledge.metadata.kind is AdapterKind.KNOWLEDGE
    assert knowledge.metadata.certificate.mechanism is Mechanism.POST_PROCESSING
    assert knowledge.metadata.certificate.inherited_from == adapter.sha256
    assert knowledge.metadata.template.record_format == "chat"
