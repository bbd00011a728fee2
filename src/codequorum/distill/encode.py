"""Examples as token ids: the prompt as the member's chat template or FIM format renders it,
then the answer and the token that ends it. Loss and teachers look only at the answer."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codequorum.distill.examples import TrainingExample
from codequorum.plugins.backends._chat import chat_messages

CHAT_END = "<|im_end|>"  # Qwen2.5's end of turn: what a chat answer ends with
FIM_END = "<|endoftext|>"  # what a FIM answer ends with


@dataclass(frozen=True)
class EncodedExample:
    key: str
    ids: tuple[int, ...]
    answer_start: int  # ids[answer_start:] are the answer and its end token

    @property
    def digest(self) -> str:
        """What a teacher cache file is named by: the exact token ids."""
        return hashlib.sha256(",".join(map(str, self.ids)).encode()).hexdigest()[:32]

    @property
    def answer_ids(self) -> tuple[int, ...]:
        return self.ids[self.answer_start:]


def encode(example: TrainingExample, tokenizer: Any) -> EncodedExample:
    """`tokenizer` is a Hugging Face tokenizer (the student's, which the teachers share)."""
    if example.prompt.kind == "chat":
        rendered = tokenizer.apply_chat_template(chat_messages(example.prompt), add_generation_prompt=True,
                                                 tokenize=False)
        answer = example.answer + CHAT_END
    else:
        rendered = example.prompt.text
        answer = example.answer + FIM_END
    prompt_ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    return EncodedExample(example.key, tuple(prompt_ids) + tuple(answer_ids), len(prompt_ids))


def encode_all(examples: Sequence[TrainingExample], tokenizer: Any,
               max_length: int) -> tuple[list[EncodedExample], int]:
    """The examples that fit in `max_length` tokens, and how many did not (they are left out
    whole: cutting a prompt would teach answers to questions nobody asked)."""
    encoded = [encode(e, tokenizer) for e in examples]
    kept = [e for e in encoded if len(e.ids) <= max_length and e.answer_start < len(e.ids)]
    return kept, len(encoded) - len(kept)
