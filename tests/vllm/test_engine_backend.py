"""The engine backend against real vLLM engines (CPU build) serving the bundled SmolLM2.

The base engine has LoRA on (the clients' adapters); the expert, SmolLM2 too here, is served by a second
engine without LoRA, as a deployment must (grading's prompt log-probabilities crash a LoRA-enabled CPU
engine: vLLM issues 29955, 16668).
"""

from __future__ import annotations

import json
import time
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
from server_node.inference.vllm_process import vllm_dtype
from server_node.jobs.runner import run_claimed
from server_node.jobs.store import create_job, job_queue, to_public
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


def engine_state(tmp_path: Path, url: str, expert_url: str | None = None, **overrides: object) -> ServerState:
    values: dict[str, object] = {
        "data_dir": tmp_path, "workers": 0, "inference_backend": "engine", "engine_url": url, "engine_expert_url": expert_url,
        "expert_model": DEFAULT_BASE_MODEL, "embedding_model": None, "allow_non_private": True,
        "generation_batch_size": 6, "knowledge_epochs": 1, "engine_retries": 1, "engine_backoff_seconds": 0.1,
        "worker_poll_seconds": 0.2}
    settings = ServerSettings.model_validate({**values, **overrides})
    return ServerState.from_settings(settings)


def served_names(url: str) -> list[str]:
    return [m["id"] for m in httpx.get(f"{url}/v1/models", timeout=10).json()["data"]]


def test_adapter_changes_the_engines_logprobs_as_peft_does(tmp_path, engine, client_adapter) -> None:
    state = engine_state(tmp_path, engine.url)
    backend = state.jobs.backend
    assert isinstance(backend, EngineBackend)
    adapter = decode_adapter(client_adapter)
    hosted = state.hosted.for_adapter(adapter.metadata.base_model, adapter.metadata.base_model_sha256)
    local = load_causal_lm(DEFAULT_BASE_MODEL)
    prompt = str(local.tokenizer.apply_chat_template(TEMPLATE.messages(), add_generation_prompt=True, tokenize=False))
    # points inside records the adapter learned to write: after the layout's headers, mid-question, mid-answer
    records = clinic_records(4, seed=11)
    prompts = [prompt + TEMPLATE.assistant_prefix()]
    for r in records:
        text = f"### Instruction:\n{r.instruction}\n### Response:\n{r.response}"
        prompts += [prompt + text[: len(text) // 3], prompt + text[: 2 * len(text) // 3]]

    with backend.sampler(hosted, adapter) as lm:
        name = EngineBackend.adapter_name(adapter)
        assert name in served_names(engine.url) and backend.loaded() == {name: 1}
        engine_top = lm.next_token_logprobs(prompts, top=10)
        texts = lm.sample([prompt] * 3, max_new_tokens=24, temperature=0.8, seed=5)
        again = lm.sample([prompt] * 3, max_new_tokens=24, temperature=0.8, seed=5)
        with pytest.raises(InferenceEngineRequestError, match="29955"):  # vLLM's LoRA prompt-logprob bug: refused
            lm.continuation_logprobs([prompt], ["### Instruction:"])
    assert name not in served_names(engine.url) and backend.loaded() == {}
    assert not (state.settings.data_dir / "engine-adapters" / name).exists()
    base_top = backend.base_model().next_token_logprobs(prompts, top=10)
    peft_top = LocalTextModel(load_lora(local.model, adapter).merge_and_unload().eval(), local.tokenizer) \
        .next_token_logprobs(prompts, top=10)

    def gap(a: list[dict[int, float]], b: list[dict[int, float]]) -> tuple[float, float]:
        """Mean |difference| over the tokens both top-10 lists hold, and the share of top-10 tokens they share."""
        diffs = [abs(x[t] - y[t]) for x, y in zip(a, b, strict=True) for t in x if t in y]
        return sum(diffs) / max(1, len(diffs)), len(diffs) / sum(len(x) for x in a)

    (to_peft, shared_peft), (from_base, shared_base) = gap(engine_top, peft_top), gap(engine_top, base_top)
    figures = (f"engine+adapter vs peft: {to_peft:.3f} nats on {shared_peft:.0%} shared top-10 tokens; "
               f"vs the engine's base: {from_base:.3f} on {shared_base:.0%}")
    assert to_peft < 0.15 and shared_peft >= 0.8, figures  # bf16 engine vs fp32 peft: measured 0.10 on 97%
    assert from_base > 5 * to_peft or shared_base < 0.6, figures  # the adapter moved what the engine predicts
    assert len(texts) == 3 and texts == again  # seeded per prompt


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
    assert job_queue(state.engine).claim("test") == job_id
    run_claimed(state.jobs, job_id)
    with Session(state.engine, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job_id, job


def test_whole_job_through_the_engine(tmp_path, engine, expert_engine, client_adapter) -> None:
    state = engine_state(tmp_path, engine.url, expert_engine.url)
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


def test_adapter_the_engine_rejects_fails_the_job_cleanly(tmp_path, engine, expert_engine) -> None:
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
    state = engine_state(tmp_path, engine.url, expert_engine.url)
    _, job = _run_one_job(state, encode_adapter(lora_state_dict(peft), metadata))
    public = to_public(job)
    assert public.state is JobState.FAILED
    assert public.error is not None and public.error.code == "engine_adapter_rejected", public.error
    assert state.jobs.backend.loaded() == {}
    assert not any((state.settings.data_dir / "engine-adapters").glob("privsynth-*"))
    assert served_names(engine.url) == [SERVED]  # the engine lives on


def test_two_clients_jobs_share_the_engine_concurrently(tmp_path, engine, expert_engine, client_adapter) -> None:
    decoded = decode_adapter(client_adapter)
    other = encode_adapter({k: v + 1e-4 if "lora_B" in k else v for k, v in decoded.tensors.items()}, decoded.metadata)
    state = engine_state(tmp_path, engine.url, expert_engine.url, workers=2)
    with Session(state.engine, expire_on_commit=False) as session:
        job_ids = []
        for name, data in (("hospital-a", client_adapter), ("hospital-b", other)):
            client, _ = create_token(session, name=name)
            adapter = accept_adapter(data, owner_id=client.client_id, session=session, hosted=state.hosted,
                                     store=state.store, policy=state.policy)
            request = JobCreateRequest(adapter_id=adapter.adapter_id, n_samples=4, min_grade=0.0, train_knowledge_adapter=False,
                                       task=TaskSpec(domain="clinic questions", description=TASK),
                                       sampling=SamplingParams(temperature=0.8, max_new_tokens=80))
            job_ids.append(create_job(session, owner_id=client.client_id, request=request).job_id)
    backend = state.jobs.backend
    assert isinstance(backend, EngineBackend)
    most = 0
    state.start_workers()
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            most = max(most, len(backend.loaded()))
            with Session(state.engine) as session:
                jobs = [to_public(session.get(Job, j)) for j in job_ids]
            if all(j.state.terminal for j in jobs):
                break
            time.sleep(0.05)
    finally:
        state.stop_workers()
    assert [j.state for j in jobs] == [JobState.SUCCEEDED] * 2, [j.error for j in jobs]
    assert most == 2  # both clients' adapters were on the engine at once
    assert backend.loaded() == {} and not any(n.startswith("privsynth-") for n in served_names(engine.url))


def test_grades_through_the_engine_match_the_in_process_grader(tmp_path, expert_engine) -> None:
    from server_node.pipeline.grade import grade_samples

    state = engine_state(tmp_path, expert_engine.url, expert_engine.url)
    records = clinic_records(6, seed=5)
    samples = [{"instruction": r.instruction, "input": "", "response": r.response} for r in records]
    samples += [{"instruction": records[0].instruction, "input": "", "response": records[1].response},  # mismatched
                {"instruction": "zq xv", "input": "", "response": "!! ??"}]  # garbled
    local = load_causal_lm(DEFAULT_BASE_MODEL, dtype=vllm_dtype())  # the engine's own dtype
    kwargs = {"samples": samples, "domain": "clinic questions", "chat": True, "labels": None}
    engine = grade_samples(lm=state.jobs.backend.expert(), **kwargs)
    here = grade_samples(lm=LocalTextModel(local.model, local.tokenizer), **kwargs)
    gaps = [abs(a.score - b.score) for a, b in zip(engine, here, strict=True)]
    assert max(gaps) < 0.05, [(round(a.score, 3), round(b.score, 3)) for a, b in zip(engine, here, strict=True)]
