"""A candidate answer and the evidence gathered about it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from codequorum.vocabulary.evidence import Evidence, TestOutcome

__all__ = ["Candidate", "Evidence", "TestOutcome"]

_ids = itertools.count(1)


@dataclass
class Candidate:
    """Text proposed by one member, plus where it came from and what the checks found."""

    member: str
    text: str
    prompt_kind: str  # "fim" or "chat"
    raw_text: str = ""  # model output before post-processing
    tokens: int = 0
    mean_logprob: float | None = None
    seconds: float = 0.0
    cost: float = 0.0
    evidence: Evidence = field(default_factory=Evidence)
    scores: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def syntax_ok(self) -> bool | None:
        return self.evidence.syntax

    @property
    def tests(self) -> TestOutcome | None:
        return self.evidence.tests
