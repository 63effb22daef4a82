"""The prepared default models load offline, generate text, and accept adapters made for them."""

from __future__ import annotations

import json
import time

import pytest
import torch

from shared.adapters import AdapterMetadata, decode_adapter, encode_adapter
from shared.adapters.peft_io import attach_lora, lora_state_dict
from shared.compute import resolve_compute
from shared.constants import DEFAULT_BASE_MODEL, DEFAULT_EXPERT_MODEL, MODEL_MANIFEST_NAME
from shared.errors import AdapterShapeError
from shared.lora import LoraSpec
from shared.models.bundled import BUNDLED_MODELS
from shared.models.fingerprint import compute_weights_sha256_of_dir
from shared.models.generation import generate_chat, generate_completion
from shared.models.loading import LoadedModel, load_causal_lm, load_for
from shared.models.prepare import prepare_model
from shared.prompts import GenerationTemplate
from tests.utils.adapters import make_certificate


@pytest.fixture(scope="module")
def smollm2(model_settings) -> LoadedModel:
    return load_causal_lm(DEFAULT_BASE_MODEL, settings=model_settings, prepare=True)


def test_smollm2_answers_a_chat_prompt_offline(smollm2: LoadedModel, monkeypatch) -> None:
    assert smollm2.resolved.chat and smollm2.tokenizer.chat_template
    answer = generate_chat(smollm2, [[{"role": "user", "content": "What is the capital of France?"}]], max_new_tokens=16)[0]
    assert answer.strip(), "empty answer"
    assert "paris" in answer.lower()
    assert sum(p.numel() for p in smollm2.model.parameters()) == pytest.approx(134.5e6, rel=0.01)


def test_manifest_hash_matches_the_weights(smollm2: LoadedModel) -> None:
    manifest = json.loads((smollm2.resolved.path / MODEL_MANIFEST_NAME).read_text())
    assert manifest.get("source_sha256", manifest.get("gguf_sha256")) == BUNDLED_MODELS[DEFAULT_BASE_MODEL].source_sha256
    assert manifest["weights_sha256"] == compute_weights_sha256_of_dir(smollm2.resolved.path)
    assert "quantization_config" not in json.loads((smollm2.resolved.path / "config.json").read_text())


def test_prepare_again_is_a_no_op(smollm2: LoadedModel, model_settings) -> None:
    manifest = smollm2.resolved.path / MODEL_MANIFEST_NAME
    before = manifest.stat().st_mtime_ns
    start = time.perf_counter()
    prepare_model(BUNDLED_MODELS[DEFAULT_BASE_MODEL], model_settings.model_cache, progress=False)
    assert time.perf_counter() - start < 5
    assert manifest.stat().st_mtime_ns == before


def test_real_adapter_passes_the_codec_and_wrong_rank_shapes_fail(smollm2: LoadedModel) -> None:
    signature = smollm2.signature()
    assert len([m for m in signature.linear_shapes if m.endswith("q_proj")]) == 30
    spec = LoraSpec(r=4, alpha=8, target_modules=("q_proj", "v_proj"))
    peft_model = attach_lora(smollm2.model, spec)
    tensors = lora_state_dict(peft_model, dtype=torch.bfloat16)
    smollm2.model = peft_model.unload()  # give the shared fixture its plain model back
    metadata = AdapterMetadata(
        base_model=signature.model_id, base_model_sha256=signature.weights_sha256, lora=spec,
        template=GenerationTemplate.for_task("clinic questions"), certificate=make_certificate(),
    )
    decoded = decode_adapter(encode_adapter(tensors, metadata), base=signature)
    assert len(decoded.tensors) == 2 * 2 * 30
    assert decoded.tensors["base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"].shape == (4, 576)
    lying = metadata.model_copy(update={"lora": LoraSpec(r=8, alpha=8, target_modules=("q_proj", "v_proj"))})
    with pytest.raises(AdapterShapeError):
        decode_adapter(encode_adapter(tensors, lying), base=signature)


def test_gemma_completes_a_plain_prompt(model_settings) -> None:
    gemma = load_for(DEFAULT_EXPERT_MODEL, resolve_compute(), settings=model_settings, prepare=True)
    assert not gemma.resolved.chat
    text = generate_completion(gemma, ["Question: What is the capital of France?\nAnswer:"], max_new_tokens=8)[0]
    assert text.strip(), "empty completion"
    assert "paris" in text.lower()
