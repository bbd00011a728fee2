"""The task vector of a LoRA adapter: `T = (alpha / r) · B @ A` for each adapted weight, by
the weight's GGUF name.

Read from the adapter on disk (peft's `adapter_model.safetensors` and `adapter_config.json`),
so merging needs neither peft nor the model. Hugging Face's Linear weight is [out, in], and
so is a GGUF tensor read by gguf-py (numpy order; ggml lists the dimensions the other way
round); llama.cpp's converter does not permute Qwen2's q/k rows (it does for llama), so the
delta adds as it is: the e2e test checks both against the loaded model.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codequorum.vocabulary.errors import CodequorumError

GGUF_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_LORA_KEY = re.compile(r"(?:base_model\.model\.)?model\.layers\.(\d+)\.(\w+\.\w+)\.lora_([AB])(?:\.\w+)?\.weight$")


@dataclass(frozen=True)
class AdapterShape:
    rank: int
    alpha: float
    rslora: bool = False

    @property
    def scaling(self) -> float:
        return self.alpha / (math.sqrt(self.rank) if self.rslora else self.rank)


def gguf_name(layer: int, module: str) -> str:
    """`blk.N.attn_q.weight` for layer N's `self_attn.q_proj`."""
    try:
        return f"blk.{layer}.{GGUF_NAMES[module]}.weight"
    except KeyError:
        raise CodequorumError(f"no GGUF tensor for the adapted module {module!r}: "
                              f"adapt only {', '.join(GGUF_NAMES)}") from None


def task_vector(lora: dict[str, np.ndarray], shape: AdapterShape) -> dict[str, np.ndarray]:
    """{GGUF name: delta [out, in]} from peft's LoRA tensors ({key: array})."""
    pairs: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for key, array in lora.items():
        match = _LORA_KEY.search(key)
        if match is None:
            raise CodequorumError(f"unexpected tensor {key!r} in the adapter (only LoRA A/B matrices are merged)")
        layer, module, which = int(match[1]), match[2], match[3]
        pairs.setdefault((layer, module), {})[which] = array.astype(np.float32)
    deltas = {}
    for (layer, module), ab in sorted(pairs.items()):
        if set(ab) != {"A", "B"}:
            raise CodequorumError(f"layer {layer} {module}: the adapter has only lora_{''.join(ab)}")
        deltas[gguf_name(layer, module)] = shape.scaling * (ab["B"] @ ab["A"])
    return deltas


def read_adapter(directory: Path) -> dict[str, np.ndarray]:
    """The task vector of the adapter saved in `directory`."""
    from safetensors.numpy import load_file

    config = json.loads((directory / "adapter_config.json").read_text(encoding="utf-8"))
    shape = AdapterShape(int(config["r"]), float(config["lora_alpha"]), bool(config.get("use_rslora", False)))
    return task_vector(load_file(str(directory / "adapter_model.safetensors")), shape)
