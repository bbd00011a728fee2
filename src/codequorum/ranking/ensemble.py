"""Combine several scorers' opinions of the same candidates into one score.

Each scorer's scores are first put on one scale (ranks within the list, 0..1), then combined:
`mean`, `worst` (the most pessimistic scorer decides) or `uncertainty` (mean minus k times the
scorers' spread: a candidate the scorers disagree about is trusted less).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

Rule = Literal["mean", "worst", "uncertainty"]


def normalized_ranks(scores: Sequence[float]) -> np.ndarray:
    """0 for the lowest score, 1 for the highest; ties share their average rank."""
    values = np.asarray(scores, dtype=np.float64)
    if len(values) < 2:
        return np.ones_like(values)
    order = values.argsort(kind="stable")
    ranks = np.empty_like(values)
    ranks[order] = np.arange(len(values), dtype=np.float64)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks / (len(values) - 1)


def combine(scorer_scores: Mapping[str, Sequence[float]], rule: Rule = "mean", k: float = 1.0) -> np.ndarray:
    if not scorer_scores:
        raise ValueError("no scorer gave scores")
    matrix = np.stack([normalized_ranks(s) for s in scorer_scores.values()])
    if rule == "mean":
        return matrix.mean(axis=0)
    if rule == "worst":
        return matrix.min(axis=0)
    if rule == "uncertainty":
        return matrix.mean(axis=0) - k * matrix.std(axis=0)
    raise ValueError(f"unknown combination rule {rule!r} (mean, worst, uncertainty)")
