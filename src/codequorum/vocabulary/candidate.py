"""A candidate answer and the evidence gathered about it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)


@dataclass(frozen=True)
class TestOutcome:
    passed: int
    failed: int

    @property
    def all_passed(self) -> bool:
        return self.failed == 0 and self.passed > 0


@dataclass
class Candidate:
    """Text proposed by one member, plus where it came from and what checks found."""

    member: str
    text: str
    prompt_kind: str  # "fim" or "chat"
    raw_text: str = ""  # model output before post-processing
    tokens: int = 0
    mean_logprob: float | None = None
    seconds: float = 0.0
    cost: float = 0.0
    checks: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def syntax_ok(self) -> bool | None:
        return self.checks.get("syntax")

    @property
    def tests(self) -> TestOutcome | None:
        return self.checks.get("tests")
