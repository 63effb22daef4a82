"""On a CUDA device: DP-SGD's clipped per-sample gradient sum equals the CPU's, adapters travel between
devices, and a server job runs there. Skipped without a GPU (nothing in the project requires one)."""

from __future__ import annotations

import pytest
import torch

from shared.adapters.peft_io import attach_lora, load_lora, lora_state_dict
from shared.compute import resolve_compute
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from shared.prompts import GenerationTemplate
from shared.training import PrivateLoraTrainer
from shared.training.data import ExampleDataset, make_collate
from shared.training.examples import TokenizedExample
from shared.training.loss import batch_loss
from tests.utils.training import TINY_LORA, tiny_config, tiny_records

pytestmark = pytest.mark.gpu


def _clipped_sum(device: str, max_grad_norm: float = 0.05) -> dict[str, torch.Tensor]:
    """The sum over examples of per-sample gradients clipped to ``max_grad_norm``: what DP-SGD noises."""
    from opacus import GradSampleModule

    torch.manual_seed(0)
    model = attach_lora(make_tiny_llama(seed=0), TINY_LORA)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.2)
    gsm = GradSampleModule(model.to(device), batch_first=True, loss_reduction="mean")
    examples = [TokenizedExample(list(range(3, 3 + n)), [-100] * 2 + list(range(5, 3 + n))) for n in (5, 9, 14, 7, 11)]
    batch = make_collate(0)([ExampleDataset(examples)[i] for i in range(len(examples))])
    batch_loss(gsm, {k: v.to(device) for k, v in batch.items()}).backward()
    params = [(n, p) for n, p in gsm.named_parameters() if p.requires_grad]
    norms = torch.stack([p.grad_sample.flatten(1).norm(dim=1) for _, p in params]).norm(dim=0)
    factor = (max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
    return {n: torch.einsum("i,i...->...", factor, p.grad_sample).cpu() for n, p in params}


def test_clipped_per_sample_gradient_sum_on_cuda_equals_the_cpu_reference() -> None:
    cpu, cuda = _clipped_sum("cpu"), _clipped_sum("cuda")
    for name, expected in cpu.items():
        rel = (cuda[name] - expected).norm() / expected.norm().clamp(min=1e-12)
        assert rel < 1e-3, f"{name}: relative error {rel:.2e}"


def test_dp_training_on_cuda_gives_an_adapter_that_loads_on_the_cpu_and_back() -> None:
    # Prepare
    records = tiny_records(40)
    trainer = PrivateLoraTrainer(config=tiny_config(device="cuda", precision="auto"), progress=False)
    # Execute
    result = trainer.train(model=make_tiny_llama(seed=1), tokenizer=make_tiny_tokenizer(), records=records,
                           template=GenerationTemplate.for_task("tests"))
    # Assert: trained on the GPU, exported as CPU float32 tensors that load on either device
    assert result.compute is not None and result.compute.is_cuda
    assert all(t.device.type == "cpu" and t.dtype == torch.float32 for t in result.tensors.values())
    on_cpu = load_lora(make_tiny_llama(seed=1), _decoded(result))
    back = lora_state_dict(on_cpu.to("cuda"))
    for name, tensor in result.tensors.items():
        assert torch.equal(back[name], tensor)


def _decoded(result):  # type: ignore[no-untyped-def]
    from shared.adapters.codec import decode_adapter, encode_adapter
    from shared.adapters.metadata import AdapterMetadata
    from shared.models.architecture import BaseModelSignature, linear_shapes_of_model

    model = make_tiny_llama(seed=1)
    signature = BaseModelSignature("tiny", "0" * 64, linear_shapes_of_model(model))
    metadata = AdapterMetadata(base_model="tiny", base_model_sha256="0" * 64, lora=result.lora,
                               template=GenerationTemplate.for_task("tests"), certificate=result.certificate)
    return decode_adapter(encode_adapter(result.tensors, metadata), base=signature)


def test_sampling_and_scoring_run_on_cuda() -> None:
    from shared.models.sampling import sample_texts
    from shared.models.scoring import continuation_logprobs, option_probabilities

    compute = resolve_compute("cuda", "auto")
    model, tokenizer = make_tiny_llama(seed=2).to(compute.device), make_tiny_tokenizer()
    texts = sample_texts(model, tokenizer, ["hello", "a longer prompt here"], max_new_tokens=5)
    assert len(texts) == 2
    assert len(continuation_logprobs(model, tokenizer, ["a", "b c"], ["d", "e"])) == 2
    probabilities = option_probabilities(model, tokenizer, ["x", "y"], ["yes", "no"], chat=True)
    assert all(abs(sum(row) - 1.0) < 1e-4 for row in probabilities)


def test_a_server_job_runs_on_cuda(tmp_path) -> None:
    """A real server process told to compute on CUDA runs a job there (tiny models: no weights travel)."""
    import httpx

    from shared.adapters import encode_adapter
    from tests.utils.adapters import make_tiny_adapter
    from tests.utils.processes import create_tokens, running_server, tiny_server_env

    env = tiny_server_env(tmp_path, device="cuda")
    token = create_tokens(env, "hospital")["hospital"]
    auth = {"Authorization": f"Bearer {token}"}
    with running_server(env, log=tmp_path / "server.log") as url:
        tensors, metadata, _ = make_tiny_adapter(text=True)
        adapter = httpx.post(f"{url}/v1/adapters", content=encode_adapter(tensors, metadata), headers=auth).json()
        job = httpx.post(f"{url}/v1/jobs", headers=auth, json={
            "adapter_id": adapter["adapter_id"], "n_samples": 4, "min_grade": 0.0,
            "task": {"domain": "clinic questions", "description": "patient questions and a doctor's answers"},
            "sampling": {"temperature": 1.0, "max_new_tokens": 8}}).json()
        import time

        deadline = time.monotonic() + 300
        while job["state"] not in {"succeeded", "failed", "cancelled"}:
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
            job = httpx.get(f"{url}/v1/jobs/{job['job_id']}", headers=auth).json()
    assert job["state"] == "succeeded", job.get("error")
    assert job["compute"]["device"].startswith("cuda")


def test_ghost_clipping_and_hooks_take_the_same_steps_on_cuda() -> None:
    """What ``per_sample: auto`` picks on CUDA (ghost) against the hooks, as tests/shared/training does on CPU."""
    from tests.utils.training import clipped_adapter

    adapters = [clipped_adapter(mode, device="cuda") for mode in ("hooks", "ghost")]
    for name, expected in adapters[0].items():
        rel = (adapters[1][name] - expected).norm() / expected.norm().clamp(min=1e-12)
        assert rel < 1e-3, f"{name}: relative difference {rel:.2e}"


def test_the_compiled_static_cache_writes_what_the_growing_cache_writes_on_cuda() -> None:
    from shared.models.sampling import sample_texts

    model, tokenizer = make_tiny_llama(seed=3).to("cuda"), make_tiny_tokenizer()
    prompts = ["short", "a considerably longer prompt here", "mid length"]
    growing = sample_texts(model, tokenizer, prompts, max_new_tokens=20, temperature=0.0, static_cache=False)
    assert sample_texts(model, tokenizer, prompts, max_new_tokens=20, temperature=0.0) == growing  # static on CUDA
