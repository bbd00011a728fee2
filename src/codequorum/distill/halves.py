"""Which problems a run trains on, which it picks λ on, and which it leaves for evaluation.

The halves are the bench's own (`bench.fim_tasks.half_of`: even / odd problem number), so a
model distilled on one half is measured by `codequorum bench` on the other, never on what it
saw. Inside the training half a few problems are kept apart for validation (choosing λ).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from codequorum.bench.fim_tasks import half_of

Half = Literal["even", "odd", "all"]
HALVES: tuple[Half, ...] = ("even", "odd", "all")


def in_half(problem_id: str, half: Half) -> bool:
    """Whether the problem belongs to `half` ("all" takes every problem)."""
    if half == "all":
        return True
    return half_of(problem_id) == (0 if half == "even" else 1)


def other_half(half: Half) -> Half:
    """The half to evaluate a model trained on `half` on ("all" has none: itself)."""
    return {"even": "odd", "odd": "even", "all": "all"}[half]


def is_validation(key: str, share: float) -> bool:
    """Whether the problem (or prompt) `key` is kept for validation: a stable share of keys,
    chosen by hash, so the split is the same on every run and machine."""
    if share <= 0:
        return False
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share
