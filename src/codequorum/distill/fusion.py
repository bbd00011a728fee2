"""Fusing the teachers' next-token distributions into one target per answer token (FuseLLM).

Each teacher's distribution is kept as its top-k tokens with their log-probabilities (the
full vocabulary, 151,936 tokens per position, would not fit a cache), plus the log-probability
it gave the verified token, from which its cross-entropy on the answer follows. `min-ce`
takes, for each example, the teacher with the lowest cross-entropy on the verified answer;
`avg-ce` averages the teachers' distributions with weights softmax(-CE), so the teacher
that knew the answer better counts more. The two Qwen2.5-Coder members share one tokenizer,
so their distributions align token by token without any mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Fusion = Literal["min-ce", "avg-ce"]
FUSIONS: tuple[Fusion, ...] = ("min-ce", "avg-ce")


@dataclass(frozen=True)
class TokenDistributions:
    """One teacher's view of one example's answer: row i predicts answer token i."""

    indices: np.ndarray  # [n, k] int32 token ids, most likely first
    logprobs: np.ndarray  # [n, k] float32 log-probabilities over the whole vocabulary
    gold_logprobs: np.ndarray  # [n] float32, the log-probability of the verified token

    @property
    def cross_entropy(self) -> float:
        return float(-self.gold_logprobs.mean())


@dataclass(frozen=True)
class FusedTarget:
    indices: np.ndarray  # [n, k] int64
    probs: np.ndarray  # [n, k] float32, each row summing to 1 over its k tokens


def fuse(teachers: Sequence[TokenDistributions], method: Fusion, top_k: int) -> FusedTarget:
    if not teachers:
        raise ValueError("no teacher distributions to fuse")
    shapes = {t.indices.shape[0] for t in teachers}
    if len(shapes) != 1:
        raise ValueError(f"teachers disagree on the answer's length: {sorted(shapes)} tokens")
    if method == "min-ce" or len(teachers) == 1:
        best = min(teachers, key=lambda t: t.cross_entropy)
        return _normalized(best.indices[:, :top_k], np.exp(best.logprobs[:, :top_k]))
    weights = _softmax(np.array([-t.cross_entropy for t in teachers]))
    return _weighted_mean(teachers, weights, top_k)


def _weighted_mean(teachers: Sequence[TokenDistributions], weights: np.ndarray, top_k: int) -> FusedTarget:
    """Per position, the weighted sum of the teachers' probabilities over the union of their
    top-k tokens (a token outside a teacher's top-k counts as 0 for it), then its top-k."""
    rows = teachers[0].indices.shape[0]
    indices = np.zeros((rows, top_k), dtype=np.int64)
    probs = np.zeros((rows, top_k), dtype=np.float32)
    for row in range(rows):
        mass: dict[int, float] = {}
        for teacher, weight in zip(teachers, weights, strict=True):
            for token, logprob in zip(teacher.indices[row], teacher.logprobs[row], strict=True):
                mass[int(token)] = mass.get(int(token), 0.0) + float(weight) * float(np.exp(logprob))
        best = sorted(mass.items(), key=lambda item: -item[1])[:top_k]
        indices[row, :len(best)] = [token for token, _ in best]
        probs[row, :len(best)] = [p for _, p in best]
    return _normalized(indices, probs)


def _normalized(indices: np.ndarray, probs: np.ndarray) -> FusedTarget:
    probs = probs.astype(np.float32)
    return FusedTarget(indices.astype(np.int64), probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12))


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()
