"""Attempts at a fix, and their order: tests passed first, then the ranker, then the smallest change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from codequorum.fix.candidates import AnsweredFunctions
from codequorum.fix.project import CommandRun


@dataclass
class Attempt:
    """One member's candidate, applied to its own copy of the project and tested there."""

    member: str
    answer: str  # the candidate's code as the member gave it (after clean-up)
    score: float  # the ensemble ranker's score for the candidate (higher is better)
    fixed_files: dict[PurePosixPath, str] = field(default_factory=dict)  # each changed file's new text
    answered: AnsweredFunctions | None = None  # the answer's code, function by function
    problem: str | None = None  # why it could not be tried (no such function in the answer)
    run: CommandRun | None = None
    diff: str = ""
    lines_changed: int = 0

    @property
    def fixed_source(self) -> str | None:
        """The new text of the one file the fix changes (an editor's document); None when it
        changes none, or several."""
        return next(iter(self.fixed_files.values())) if len(self.fixed_files) == 1 else None

    @property
    def passed(self) -> bool:
        return self.run is not None and self.run.passed

    @property
    def tried(self) -> bool:
        return self.run is not None


def ranked(attempts: Iterable[Attempt]) -> list[Attempt]:
    """Best first. A fix that does not make the whole command pass never comes before one
    that does; among equals the ranker decides, and then the smaller change."""
    return sorted(attempts, key=lambda a: (not a.passed, not a.tried, -a.score, a.lines_changed))
