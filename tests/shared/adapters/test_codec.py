"""The adapter codec: round trips and one coded rejection per way a file can be wrong."""

from __future__ import annotations

import json
import pickle
import struct

import pytest
import torch
from safetensors.torch import save

from shared.adapters import AdapterLimits, decode_adapter, decode_metadata, encode_adapter
from shared.constants import META_CERTIFICATE, META_LORA
from shared.errors import (
    AdapterDtypeError,
    AdapterHeaderTooLargeError,
    AdapterMetadataError,
    AdapterMissingTensorError,
    AdapterNonFiniteError,
    AdapterNotSafetensorsError,
    AdapterRankError,
    AdapterShapeError,
    AdapterTooLargeError,
    AdapterTruncatedError,
    AdapterUnknownTensorError,
    BaseModelMismatchError,
    CertificateMalformedError,
    CertificateMissingError,
)
from tests.utils.adapters import encode_tiny_adapter, make_tiny_adapter


@pytest.fixture(scope="module")
def tiny() -> tuple[bytes, dict[str, torch.Tensor], object, object]:
    return encode_tiny_adapter()


def _reencode(tensors: dict[str, torch.Tensor], metadata_strings: dict[str, str]) -> bytes:
    """Write tensors with raw metadata, bypassing encode_adapter's own checks (an attacker's file)."""
    return save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata_strings)


def test_round_trip_keeps_tensors_and_metadata(tiny) -> None:
    # Prepare
    data, tensors, metadata, signature = tiny
    # Execute
    decoded = decode_adapter(data, base=signature)
    # Assert
    assert decoded.metadata == metadata
    assert decoded.tensors.keys() == tensors.keys()
    for name, tensor in tensors.items():
        assert torch.equal(decoded.tensors[name], tensor), name
    assert decoded.nbytes == len(data) and len(decoded.sha256) == 64
    assert decode_metadata(data) == metadata  # the header alone, no tensor loaded


def test_metadata_alone_still_refuses_what_is_not_an_adapter() -> None:
    from shared.errors import AdapterFormatError

    with pytest.raises(AdapterFormatError):
        decode_metadata(pickle.dumps({"not": "an adapter"}))


def test_round_trip_bfloat16_and_infinite_epsilon() -> None:
    from shared.privacy import DPCertificate

    tensors, metadata, signature = make_tiny_adapter(r=2, targets=("q_proj", "k_proj", "v_proj", "o_proj"))
    metadata = metadata.model_copy(update={"certificate": DPCertificate.non_private(steps=10, sample_rate=0.1, training_records=50)})
    bf16 = {k: v.to(torch.bfloat16) for k, v in tensors.items()}
    decoded = decode_adapter(encode_adapter(bf16, metadata), base=signature)
    assert decoded.metadata.certificate.epsilon == float("inf")
    assert not decoded.metadata.certificate.is_private
    assert all(t.dtype == torch.bfloat16 for t in decoded.tensors.values())


def test_same_input_gives_same_bytes(tiny) -> None:
    data, tensors, metadata, _ = tiny
    assert encode_adapter(tensors, metadata) == data


def test_rejects_pickle(tiny) -> None:
    _, tensors, _, _ = tiny
    with pytest.raises(AdapterNotSafetensorsError) as info:
        decode_adapter(pickle.dumps(tensors))
    assert info.value.code == "adapter_not_safetensors" and info.value.http_status == 415


def test_rejects_torch_save_archive(tiny, tmp_path) -> None:
    _, tensors, _, _ = tiny
    torch.save(tensors, tmp_path / "a.pt")
    with pytest.raises(AdapterNotSafetensorsError):
        decode_adapter((tmp_path / "a.pt").read_bytes())


@pytest.mark.parametrize("cut", [0, 5, 20, -1, -100])
def test_rejects_truncated_bytes(tiny, cut) -> None:
    data = tiny[0]
    with pytest.raises(AdapterTruncatedError) as info:
        decode_adapter(data[:cut])
    assert info.value.code == "adapter_truncated"


def test_rejects_oversized_header() -> None:
    data = struct.pack("<Q", 10 * 1024 * 1024) + b"{}"
    with pytest.raises(AdapterHeaderTooLargeError) as info:
        decode_adapter(data)
    assert info.value.code == "adapter_header_too_large"


def test_rejects_file_over_total_limit(tiny) -> None:
    data = tiny[0]
    with pytest.raises(AdapterTooLargeError) as info:
        decode_adapter(data, limits=AdapterLimits(max_total_bytes=len(data) - 1))
    assert info.value.http_status == 413


def test_rejects_wrong_dtype(tiny) -> None:
    _, tensors, metadata, signature = tiny
    doubled = {k: v.to(torch.float64) for k, v in tensors.items()}
    with pytest.raises(AdapterDtypeError) as info:
        decode_adapter(_reencode(doubled, metadata.to_strings()), base=signature)
    assert info.value.code == "adapter_dtype_not_allowed"


def test_encoder_refuses_wrong_dtype(tiny) -> None:
    _, tensors, metadata, _ = tiny
    with pytest.raises(AdapterDtypeError):
        encode_adapter({k: v.to(torch.int32) for k, v in tensors.items()}, metadata)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_rejects_non_finite_values(tiny, bad) -> None:
    _, tensors, metadata, signature = tiny
    poisoned = dict(tensors)
    name = sorted(poisoned)[0]
    poisoned[name] = poisoned[name].clone()
    poisoned[name][0, 0] = bad
    with pytest.raises(AdapterNonFiniteError) as info:
        decode_adapter(_reencode(poisoned, metadata.to_strings()), base=signature)
    assert info.value.detail == {"tensor": name}
    with pytest.raises(AdapterNonFiniteError):
        encode_adapter(poisoned, metadata)


def test_rejects_wrong_shape(tiny) -> None:
    _, tensors, metadata, signature = tiny
    wrong = dict(tensors)
    name = next(k for k in sorted(wrong) if "lora_A" in k)
    wrong[name] = torch.zeros(wrong[name].shape[0], wrong[name].shape[1] + 1)
    with pytest.raises(AdapterShapeError) as info:
        decode_adapter(_reencode(wrong, metadata.to_strings()), base=signature)
    assert info.value.code == "adapter_shape_mismatch"


def test_rejects_unknown_tensor_name(tiny) -> None:
    _, tensors, metadata, signature = tiny
    extra = dict(tensors)
    extra["base_model.model.model.layers.0.mlp.evil_proj.lora_A.weight"] = torch.zeros(4, 32)
    with pytest.raises(AdapterUnknownTensorError):
        decode_adapter(_reencode(extra, metadata.to_strings()), base=signature)
    # A real module that is not among the adapter's declared targets is unknown too.
    off_target = dict(tensors)
    off_target["base_model.model.model.layers.0.mlp.up_proj.lora_A.weight"] = torch.zeros(4, 32)
    with pytest.raises(AdapterUnknownTensorError):
        decode_adapter(_reencode(off_target, metadata.to_strings()), base=signature)


def test_rejects_missing_lora_half(tiny) -> None:
    _, tensors, metadata, signature = tiny
    partial = {k: v for k, v in tensors.items() if not k.endswith("layers.1.self_attn.v_proj.lora_B.weight")}
    assert len(partial) == len(tensors) - 1
    with pytest.raises(AdapterMissingTensorError):
        decode_adapter(_reencode(partial, metadata.to_strings()), base=signature)


def test_rejects_missing_certificate(tiny) -> None:
    _, tensors, metadata, signature = tiny
    strings = metadata.to_strings()
    del strings[META_CERTIFICATE]
    with pytest.raises(CertificateMissingError) as info:
        decode_adapter(_reencode(tensors, strings), base=signature)
    assert info.value.code == "certificate_missing"


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        json.dumps({"epsilon": 8.0}),
        json.dumps({"epsilon": -1, "delta": 1e-5, "noise_multiplier": 1, "max_grad_norm": 1, "sample_rate": 0.1,
                    "steps": 1, "accountant": "rdp", "training_records": 10}),
        json.dumps({"epsilon": 8, "delta": 1e-5, "noise_multiplier": 1, "max_grad_norm": 1, "sample_rate": 0.1,
                    "steps": 1, "accountant": "none", "training_records": 10}),
        json.dumps({"epsilon": 8, "delta": 1e-5, "noise_multiplier": 0, "max_grad_norm": 1, "sample_rate": 0.1,
                    "steps": 1, "accountant": "rdp", "training_records": 10}),
    ],
    ids=["bad-json", "missing-fields", "negative-epsilon", "finite-eps-no-accountant", "dp-sgd-without-noise"],
)
def test_rejects_malformed_certificate(tiny, raw) -> None:
    _, tensors, metadata, signature = tiny
    strings = metadata.to_strings()
    strings[META_CERTIFICATE] = raw
    with pytest.raises(CertificateMalformedError) as info:
        decode_adapter(_reencode(tensors, strings), base=signature)
    assert info.value.code == "certificate_malformed"


def test_rejects_rank_above_limit() -> None:
    tensors, metadata, signature = make_tiny_adapter(r=16)
    data = encode_adapter(tensors, metadata)
    assert decode_adapter(data, base=signature).metadata.lora.r == 16
    with pytest.raises(AdapterRankError) as info:
        decode_adapter(data, limits=AdapterLimits(max_rank=8), base=signature)
    assert info.value.detail == {"rank": 16, "limit": 8}


def test_rejects_rank_that_lies_about_shapes(tiny) -> None:
    _, tensors, metadata, signature = tiny
    strings = metadata.to_strings()
    lora = json.loads(strings[META_LORA])
    lora["r"] = 2
    strings[META_LORA] = json.dumps(lora)
    with pytest.raises(AdapterShapeError):
        decode_adapter(_reencode(tensors, strings), base=signature)


def test_rejects_other_base_model(tiny) -> None:
    data, _, _, signature = tiny
    other = type(signature)(signature.model_id, "0" * 64, signature.linear_shapes)
    with pytest.raises(BaseModelMismatchError):
        decode_adapter(data, base=other)


def test_rejects_missing_metadata(tiny) -> None:
    _, tensors, metadata, _ = tiny
    strings = {k: v for k, v in metadata.to_strings().items() if k == META_CERTIFICATE}
    with pytest.raises(AdapterMetadataError) as info:
        decode_adapter(_reencode(tensors, strings))
    assert "missing" in info.value.detail


def test_rejects_empty_adapter(tiny) -> None:
    _, _, metadata, _ = tiny
    with pytest.raises(AdapterMissingTensorError):
        decode_adapter(save({}, metadata=metadata.to_strings()))


@pytest.mark.parametrize("garbage", [b"", b"\x00" * 8, b"GGUF" + b"\x00" * 100, struct.pack("<Q", 4) + b"[1] "])
def test_garbage_is_a_coded_format_error(garbage) -> None:
    from shared.errors import AdapterFormatError

    with pytest.raises(AdapterFormatError) as info:
        decode_adapter(garbage)
    assert 400 <= info.value.http_status < 500


def test_header_length_starting_with_pickle_byte_is_not_mistaken_for_pickle(tiny) -> None:
    # Prepare: a valid file whose 8-byte header length starts with 0x80 (as real SmolLM2 adapters can).
    _, tensors, metadata, signature = tiny
    padded = metadata.model_copy(update={"base_model": "x" * 64})
    data = encode_adapter(tensors, padded)
    for extra in range(0, 256, 8):
        candidate = encode_adapter(tensors, padded.model_copy(update={"base_model": "x" * (64 + extra)}))
        if candidate[0] == 0x80:
            data = candidate
            break
    assert data[0] == 0x80
    # Execute / Assert
    assert decode_adapter(data).metadata.base_model.startswith("x")


def test_base_chosen_from_metadata_before_tensors_are_read(tiny) -> None:
    data, _, metadata, signature = tiny
    seen = []
    decoded = decode_adapter(data, base=lambda meta: seen.append(meta) or signature)
    assert seen == [metadata] and decoded.metadata == metadata

    def refuse(_meta):
        raise BaseModelMismatchError("not hosted here")

    with pytest.raises(BaseModelMismatchError, match="not hosted here"):
        decode_adapter(data, base=refuse)
