"""EngineBackend's adapter lifecycle over real loopback HTTP (a scripted OpenAI-style endpoint), and the
peft directory it writes for engines (loaded back with peft itself)."""

from __future__ import annotations

import threading

import pytest
import torch

from server_node.hosting import HostedModel
from server_node.inference.backend import EngineBackend, write_peft_dir
from server_node.inference.engine_client import EngineClient
from shared.adapters import decode_adapter
from shared.adapters.peft_io import load_lora
from shared.errors import EngineAdapterRejectedError
from shared.models.loading import signature_of
from shared.models.resolve import ModelSource, ResolvedModel
from shared.models.tiny import make_tiny_llama, make_tiny_tokenizer
from tests.server_node.inference.conftest import url_of
from tests.utils.adapters import encode_tiny_adapter


@pytest.fixture
def hosted(tmp_path) -> HostedModel:
    path = tmp_path / "tiny"
    make_tiny_llama(seed=0).save_pretrained(path)
    make_tiny_tokenizer().save_pretrained(path)
    resolved = ResolvedModel("tiny", "tiny-llama", path, ModelSource.LOCAL)
    return HostedModel(resolved, signature_of(resolved))


def backend_for(server, hosted: HostedModel, tmp_path, **kwargs: object) -> EngineBackend:
    client = EngineClient(url_of(server), retries=0)
    return EngineBackend(base=hosted, base_client=client, base_name="base", expert=None, expert_client=client,
                         expert_name=None, adapter_dir=tmp_path / "adapters", **kwargs)  # type: ignore[arg-type]


def test_peft_directory_loads_back_to_the_same_model(tmp_path) -> None:
    data, _, _, _ = encode_tiny_adapter(seed=0)
    adapter = decode_adapter(data)
    write_peft_dir(adapter, tmp_path / "peft")
    from peft import PeftModel

    ids = torch.tensor([[5, 9, 13, 2]])
    ours = load_lora(make_tiny_llama(seed=0), adapter).eval()
    theirs = PeftModel.from_pretrained(make_tiny_llama(seed=0), str(tmp_path / "peft")).eval()
    with torch.no_grad():
        assert torch.allclose(ours(ids).logits, theirs(ids).logits, atol=1e-6)
    assert not torch.allclose(ours(ids).logits, make_tiny_llama(seed=0)(ids).logits, atol=1e-3)


def test_runtime_loading_registers_once_under_the_sha256_and_unloads_after_the_last_job(scripted, hosted, tmp_path) -> None:
    adapter = decode_adapter(encode_tiny_adapter(seed=0)[0])
    backend = backend_for(scripted, hosted, tmp_path)
    name = "privsynth-" + adapter.sha256
    with backend.sampler(hosted, adapter) as first:
        assert first.model == name and (tmp_path / "adapters" / name / "adapter_model.safetensors").is_file()
        with backend.sampler(hosted, adapter) as second:  # a second job on the same adapter
            assert second.model == name and backend.loaded() == {name: 2}
        assert backend.loaded() == {name: 1}
    assert backend.loaded() == {} and not (tmp_path / "adapters" / name).exists()
    calls = [(path, body.get("lora_name"), body.get("lora_path")) for path, body, _ in scripted.seen]
    assert calls == [("/v1/load_lora_adapter", name, str(tmp_path / "adapters" / name)),
                     ("/v1/unload_lora_adapter", name, None)]


def test_an_adapter_left_loaded_by_an_interrupted_job_is_reused(scripted, hosted, tmp_path) -> None:
    scripted.script[:] = [(400, {"error": {"message": "The lora adapter 'x' has already been loaded."}})]
    adapter = decode_adapter(encode_tiny_adapter(seed=0)[0])
    with backend_for(scripted, hosted, tmp_path).sampler(hosted, adapter) as lm:
        assert lm.model == "privsynth-" + adapter.sha256


def test_a_refused_adapter_raises_and_leaves_no_files(scripted, hosted, tmp_path) -> None:
    scripted.script[:] = [(400, {"error": {"message": "LoRA rank 16 is greater than max_lora_rank 8."}})]
    adapter = decode_adapter(encode_tiny_adapter(seed=0)[0])
    backend = backend_for(scripted, hosted, tmp_path)
    with pytest.raises(EngineAdapterRejectedError) as info, backend.sampler(hosted, adapter):
        pass
    assert info.value.code == "engine_adapter_rejected" and "max_lora_rank" in info.value.message
    assert backend.loaded() == {} and not any((tmp_path / "adapters").iterdir())


def test_by_path_loading_names_base_and_adapter_and_only_writes_files(scripted, hosted, tmp_path) -> None:
    adapter = decode_adapter(encode_tiny_adapter(seed=0)[0])
    backend = backend_for(scripted, hosted, tmp_path, adapter_loading="by-path")
    name = "privsynth-" + adapter.sha256
    with backend.sampler(hosted, adapter) as lm:
        assert lm.model == f"base:{name}" and (tmp_path / "adapters" / name / "adapter_config.json").is_file()
    assert not (tmp_path / "adapters" / name).exists() and scripted.seen == []


def test_concurrent_jobs_share_one_load(scripted, hosted, tmp_path) -> None:
    adapter = decode_adapter(encode_tiny_adapter(seed=0)[0])
    backend = backend_for(scripted, hosted, tmp_path)
    inside = threading.Barrier(4)

    def job() -> None:
        with backend.sampler(hosted, adapter):
            inside.wait(timeout=10)

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [path for path, _, _ in scripted.seen] == ["/v1/load_lora_adapter", "/v1/unload_lora_adapter"]
