"""One entry of the router's memory: a past request and how each member did on it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Entry:
    """One past request: how often each member was right on it, and its answers' length."""

    text: str
    source: str  # "bench:HumanEval/0", "feedback"
    outcomes: dict[str, float]  # member → share of its answers that were right (0..1)
    tokens: dict[str, float] = field(default_factory=dict)  # member → mean tokens of its answers
    embedding: list[float] = field(default_factory=list)
