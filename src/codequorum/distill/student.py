"""The student: the cheap member's GGUF loaded in transformers (dequantized, as the
transformers backend loads it), with a LoRA on its attention and MLP projections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codequorum.vocabulary.errors import CodequorumError

INSTALL_HINT = "pip install 'codequorum[distill]' (peft, transformers, gguf, accelerate, torch 2.13.0)"
# Qwen2's linear layers, by their Hugging Face names (task_vector maps them to GGUF names)
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LoraShape:
    rank: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = TARGET_MODULES


@dataclass
class Student:
    model: Any  # a peft model
    tokenizer: Any
    device: str


def load_tokenizer(gguf: Path) -> Any:
    transformers = _import("transformers")
    return transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def load_student(gguf: Path, shape: LoraShape, device: str | None, tokenizer: Any | None = None) -> Student:
    torch, transformers, peft = _import("torch"), _import("transformers"), _import("peft")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError) as error:
        raise CodequorumError(f"transformers could not load the student {gguf}: {error}") from error
    model.config.use_cache = False
    config = peft.LoraConfig(r=shape.rank, lora_alpha=shape.alpha, lora_dropout=0.0, bias="none",
                             target_modules=list(shape.targets), task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, config).to(device)
    return Student(model, tokenizer or load_tokenizer(gguf), device)


def answer_logits(student: Student, ids: Any, answer_start: int) -> Any:
    """The logits that predict the answer's tokens, [n, V]: the output layer runs only on the
    positions before each answer token, not the whole sequence (bounded memory)."""
    inner = student.model.get_base_model()
    hidden = inner.model(input_ids=ids.unsqueeze(0)).last_hidden_state[0]
    return inner.lm_head(hidden[answer_start - 1:ids.shape[0] - 1])


def _import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError as error:
        raise CodequorumError(f"`codequorum distill` needs {error.name}: {INSTALL_HINT}") from error
