"""The engine backend against a real vLLM (CPU build) serving the bundled SmolLM2.

The server's expert is SmolLM2 too, served by the same engine (one engine keeps CI on 2 cores; a
deployment points PRIVSYNTH_SERVER_ENGINE_EXPERT_URL at a second engine for a larger expert).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import torch
from sqlalchemy.orm import Session

from client_node.datasets.demo import clinic_records
from client_node.training.export import export_adapter
from server_node.adapters.intake import accept_adapter
from server_node.core.config import ServerSettings
from server_node.core.security import create_token
from server_node.inference import LocalTextModel
from server_node.inference.backend import EngineBackend
from server_node.inference.engine_model import EngineTextModel
from server_node.jobs.runner import run_job
from server_node.jobs.store import claim_next, create_job, to_public
from server_node.models import Job
from server_node.state import ServerState
from shared.adapters import AdapterMetadata, decode_adapter, encode_adapter
from shared.adapters.peft_io import attach_lora, load_lora, lora_state_dict
from shared.constants import DEFAULT_BASE_MODEL
from shared.errors import InferenceEngineRequestError
from shared.lora import LoraSpec
from shared.models.loading import load_causal_lm
from shared.prompts import GenerationTemplate
from shared.protocol import JobCreateRequest, JobState, SamplingParams, SyntheticSample, TaskSpec
from shared.training import PrivateLoraTrainer, TrainConfig
from tests.utils.adapters import make_certificate
from tests.vllm.conftest import SERVED

TASK = "patient questions to a clinic and the clinic's answers"
TEMPLATE = GenerationTemplate.for_task(TASK)


@pytest.fixture(scope="module")
def client_adapter() -> bytes:
    """A LoRA (r 8, q/v) trained on clinic records for a few epochs: it clearly moves the base model.
    Without DP so that the test's signal does not depend on noise; the engine does not care."""
    loaded = load_causal_lm(DEFAULT_BASE_MODEL)
    config = TrainConfig(epsilon=float("inf"), epochs=3, batch_size=8, learning_rate=3e-3,
                         lora=LoraSpec(r=8, alpha=16, target_modules=("q_proj", "v_proj")))
    result = PrivateLoraTrainer(config=config, progress=False).train(
        model=loaded.model, tokenizer=loaded.tokenizer, records=clinic_records(48, seed=3), template=TEMPLATE)
    return export_adapter(result, base=loaded.signature(), template=TEMPLATE)


def engine_state(tmp_path: Path, url: str, **overrides: object) -> ServerState:
    settings = ServerSettings(data_dir=tmp_path, workers=0, inference_backend="engine", engine_url=url,
                              expert_model=DEFAULT_BASE_MODEL, embedding_model=None, allow_non_private=True,
                              generation_batch_size=6, knowledge_epochs=1, engine_retries=1, engine_backoff_seconds=0.1,
                              **overrides)
    return ServerState.from_settings(settings)


def served_names(url: str) -> list[str]:
    return [m["id"] for m in httpx.get(f"{url}/v1/models", timeout=10).json()["data"]]


def test_adapter_changes_the_engines_logprobs_as_peft_does(tmp_path, engine, client_adapter) -> None:
    state = engine_state(tmp_path, engine.url)
    backend = state.jobs.backend
    assert isinstance(backend, EngineBackend)
    adapter = decode_adapter(client_adapter)
    hosted = state.hosted.for_adapter(adapter.metadata.base_model, adapter.metadata.base_model_sha256)
    records = clinic_records(6, seed=11)
    local = load_causal_lm(DEFAULT_BASE_MODEL)
    prompt = str(local.tokenizer.apply_chat_template(TEMPLATE.messages(), add_generation_prompt=True, tokenize=False))
    contexts = [prompt] * len(records)
    continuations = [TEMPLATE.assistant_prefix() + f"### Instruction:\n{r.instruction}\n### Response:\n{r.response}"
                     for r in records]
    questions = [f"Question: Is this about a clinic?\n{c}\nAnswer:" for c in continuations]

    with backend.sampler(hosted, adapter) as lm:
        name = EngineBackend.adapter_name(adapter)
        assert name in served_names(engine.url) and backend.loaded() == {name: 1}
        engine_lp = lm.continuation_logprobs(contexts, continuations, add_special_tokens=False)
        engine_options = lm.option_probabilities(questions, ["Yes", "No"], chat=False)
        texts = lm.sample([prompt] * 3, max_new_tokens=24, temperature=0.8, seed=5)
        again = lm.sample([prompt] * 3, max_new_tokens=24, temperature=0.8, seed=5)
    assert name not in served_names(engine.url) and backend.loaded() == {}
    assert not (state.settings.data_dir / "engine-adapters" / name).exists()
    base_lp = backend.base_model().continuation_logprobs(contexts, continuations, add_special_tokens=False)

    peft = LocalTextModel(load_lora(local.model, adapter).merge_and_unload().eval(), local.tokenizer)
    local_lp = peft.continuation_logprobs(contexts, continuations, add_special_tokens=False)
    local_options = peft.option_probabilities(questions, ["Yes", "No"], chat=False)

    gap_to_peft = max(abs(a - b) for a, b in zip(engine_lp, local_lp, strict=True))
    shift_from_base = sum(a - b for a, b in zip(engine_lp, base_lp, strict=True)) / len(records)
    figures = f"engine+adapter {engine_lp}, peft {local_lp}, engine base {base_lp}"
    assert gap_to_peft < 0.1, figures  # bf16 engine vs fp32 peft, mean nats per token
    assert shift_from_base > 0.3 > gap_to_peft, figures  # the adapter learned these records' layout
    assert max(abs(a[0] - b[0]) for a, b in zip(engine_options, local_options, strict=True)) < 0.1
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts) and texts == again  # seeded per prompt


def test_unknown_adapter_name_is_refused(tmp_path, engine) -> None:
    state = engine_state(tmp_path, engine.url)
    backend = state.jobs.backend
    assert isinstance(backend, EngineBackend)
    ghost = EngineTextModel(backend.base_client, "privsynth-" + "0" * 64, backend.base_model().tokenizer)
    with pytest.raises(InferenceEngineRequestError) as info:
        ghost.sample(["Hello"], max_new_tokens=4)
    assert info.value.detail["status"] in (400, 404)


def _run_one_job(state: ServerState, adapter_bytes: bytes, **request: object) -> tuple[str, Job]:
    with Session(state.engine, expire_on_commit=False) as session:
        client, _ = create_token(session, name="hospital")
        adapter = accept_adapter(adapter_bytes, owner_id=client.client_id, session=session, hosted=state.hosted,
                                 store=state.store, policy=state.policy)
        job_request = JobCreateRequest(adapter_id=adapter.adapter_id, task=TaskSpec(domain="clinic questions", description=TASK),
                                       n_samples=4, sampling=SamplingParams(temperature=0.8, max_new_tokens=80), min_grade=0.0,
                                       **request)
        job_id = create_job(session, owner_id=client.client_id, request=job_request).job_id
    assert claim_next(state.engine, worker_id="test") == job_id
    run_job(state.jobs, job_id)
    with Session(state.engine, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job_id, job


def test_whole_job_through_the_engine(tmp_path, engine, client_adapter) -> None:
    state = engine_state(tmp_path, engine.url)
    _, job = _run_one_job(state, client_adapter)
    public = to_public(job)
    assert public.state is JobState.SUCCEEDED, public.error
    assert set(public.timings) == {"generating", "grading", "rewriting", "training"}
    samples = [SyntheticSample.model_validate(json.loads(line))
               for line in state.store.get(job.samples_sha256).decode().splitlines()]
    assert samples and all(s.instruction and s.response and 0.0 <= (s.grade or -1) <= 1.0 for s in samples)
    assert public.counts.rewritten == sum(s.rewritten for s in samples) and public.counts.rewritten >= 1
    knowledge = decode_adapter(state.store.get(job.adapter_sha256))
    assert knowledge.metadata.kind.value == "knowledge"
    assert not any(n.startswith("privsynth-") for n in served_names(engine.url))  # unloaded after the job
    assert state.jobs.backend.loaded() == {}


def test_adapter_the_engine_rejects_fails_the_job_cleanly(tmp_path, engine) -> None:
    # rank 16 passes the server's own policy but not the engine's --max-lora-rank 8
    loaded = load_causal_lm(DEFAULT_BASE_MODEL)
    spec = LoraSpec(r=16, alpha=32, target_modules=("q_proj", "v_proj"))
    peft = attach_lora(loaded.model, spec)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.01)
    metadata = AdapterMetadata(base_model=loaded.signature().model_id, base_model_sha256=loaded.signature().weights_sha256,
                               lora=spec, template=TEMPLATE, certificate=make_certificate())
    state = engine_state(tmp_path, engine.url)
    _, job = _run_one_job(state, encode_adapter(lora_state_dict(peft), metadata))
    public = to_public(job)
    assert public.state is JobState.FAILED
    assert public.error is not None and public.error.code == "engine_adapter_rejected", public.error
    assert state.jobs.backend.loaded() == {}
    assert not any((state.settings.data_dir / "engine-adapters").glob("privsynth-*"))
    assert served_names(engine.url) == [SERVED]  # the engine lives on
