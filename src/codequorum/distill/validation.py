"""λ of the merge `W = W_pre + λ T`, chosen on validation examples the training never saw.

The task vector T is the LoRA's delta, so scaling the LoRA by λ is the merged model at λ
without writing it: each λ of the grid costs one pass over the validation answers. The
criterion is the cross-entropy of the verified answers (lower is better); λ = 0 is the
original model, λ = 1 the raw fine-tune.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from codequorum.distill.encode import EncodedExample
from codequorum.distill.student import Student, answer_logits

DEFAULT_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)


@dataclass(frozen=True)
class LambdaPoint:
    merge_lambda: float
    cross_entropy: float  # mean over the validation answers' tokens


def lambda_curve(student: Student, examples: Sequence[EncodedExample], grid: Sequence[float],
                 advance: Callable[[], None] = lambda: None) -> list[LambdaPoint]:
    curve = []
    for merge_lambda in grid:
        with lora_scaled(student, merge_lambda):
            curve.append(LambdaPoint(merge_lambda, answer_cross_entropy(student, examples)))
        advance()
    return curve


def best_lambda(curve: Sequence[LambdaPoint]) -> float:
    """The λ of the lowest validation loss; on a tie the smaller λ (nearer the original)."""
    return min(curve, key=lambda p: (round(p.cross_entropy, 6), p.merge_lambda)).merge_lambda


def answer_cross_entropy(student: Student, examples: Sequence[EncodedExample]) -> float:
    total, tokens = 0.0, 0
    with torch.inference_mode():
        for example in examples:
            ids = torch.tensor(example.ids, device=student.device)
            logits = answer_logits(student, ids, example.answer_start).float()
            gold = ids[example.answer_start:]
            total += float(torch.nn.functional.cross_entropy(logits, gold, reduction="sum"))
            tokens += len(gold)
    return total / max(tokens, 1)


@contextmanager
def lora_scaled(student: Student, factor: float) -> Iterator[None]:
    """Every LoRA layer's scaling multiplied by `factor` while inside."""
    layers = [m for m in student.model.modules() if hasattr(m, "lora_A") and isinstance(getattr(m, "scaling", None), dict)]
    saved = [dict(m.scaling) for m in layers]
    try:
        for layer, original in zip(layers, saved, strict=True):
            layer.scaling.update({name: value * factor for name, value in original.items()})
        yield
    finally:
        for layer, original in zip(layers, saved, strict=True):
            layer.scaling.update(original)
