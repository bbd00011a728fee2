"""What one `fix` produced: the outcome, the attempts best first, and its JSON wire shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel

from codequorum.fix.choose import Attempt
from codequorum.fix.project import CommandRun
from codequorum.stores.verified import VerifiedAnswer
from codequorum.vocabulary.result import Trace


class FixOutcome(str, Enum):
    FIXED = "fixed"  # a candidate makes the whole test command pass
    ALREADY_PASSING = "already-passing"  # nothing to fix; no model was asked
    NOT_FIXED = "not-fixed"  # no candidate makes it pass; nothing applied
    CANNOT_RUN = "cannot-run"  # the command could not run (not found, timed out, no tests)
    NOT_LOCATED = "not-located"  # it fails, but the output names no function we can fix
    NOT_APPLIED = "not-applied"  # a fix passes, but --apply could not write it (the reason says why)


# 2 is taken by user errors (a missing file, a bad option, a bad config), as in every command.
EXIT_CODES = {
    FixOutcome.FIXED: 0,
    FixOutcome.ALREADY_PASSING: 0,
    FixOutcome.NOT_FIXED: 1,
    FixOutcome.CANNOT_RUN: 3,
    FixOutcome.NOT_LOCATED: 4,
    FixOutcome.NOT_APPLIED: 5,
}


@dataclass
class FixReport:
    outcome: FixOutcome
    message: str
    project: Path
    command: str
    baseline: CommandRun | None = None
    file: PurePosixPath | None = None  # where the failure points
    function: str | None = None
    functions: list[tuple[PurePosixPath, str]] = field(default_factory=list)  # all shown to the members
    attempts: list[Attempt] = field(default_factory=list)  # best first
    applied: bool = False
    backup: Path | None = None  # the first file's backup
    backups: list[Path] = field(default_factory=list)  # one per file written
    trace: Trace | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the project's copies left out, and why
    verified: VerifiedAnswer | None = None  # the passing fix, as `codequorum distill` learns it

    @property
    def best(self) -> Attempt | None:
        return self.attempts[0] if self.attempts else None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]

    def to_json_dict(self) -> dict[str, Any]:
        return FixReportJson.of(self).model_dump(mode="json")


class CommandRunJson(BaseModel):
    exit_code: int | None
    verdict: str
    seconds: float
    timed_out: bool
    killed_by: str | None
    output: str

    @classmethod
    def of(cls, run: CommandRun) -> CommandRunJson:
        return cls(exit_code=run.exit_code, verdict=run.verdict.value, seconds=round(run.seconds, 3),
                   timed_out=run.timed_out, killed_by=run.killed_by, output=run.output)


class AttemptJson(BaseModel):
    member: str
    passed: bool
    lines_changed: int
    score: float
    problem: str | None
    diff: str
    answer: str  # the member's code, as it answered
    seconds: float | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptJson:
        return cls(member=attempt.member, passed=attempt.passed, lines_changed=attempt.lines_changed,
                   score=round(attempt.score, 4), problem=attempt.problem, diff=attempt.diff,
                   answer=attempt.answer,
                   seconds=round(attempt.run.seconds, 3) if attempt.run else None)


class FunctionJson(BaseModel):
    file: str
    function: str


class FixReportJson(BaseModel):
    outcome: str
    exit_code: int
    message: str
    project: str
    command: str
    file: str | None
    function: str | None
    functions: list[FunctionJson]  # every function shown to the members, the located one first
    baseline: CommandRunJson | None
    diff: str
    attempts: list[AttemptJson]
    applied: bool
    backup: str | None
    backups: list[str]
    seconds: float
    notes: list[str]

    @classmethod
    def of(cls, report: FixReport) -> FixReportJson:
        best = report.best
        return cls(
            outcome=report.outcome.value,
            exit_code=report.exit_code,
            message=report.message,
            project=str(report.project),
            command=report.command,
            file=str(report.file) if report.file else None,
            function=report.function,
            functions=[FunctionJson(file=str(path), function=name) for path, name in report.functions],
            baseline=CommandRunJson.of(report.baseline) if report.baseline else None,
            diff=best.diff if best else "",
            attempts=[AttemptJson.of(a) for a in report.attempts],
            applied=report.applied,
            backup=str(report.backup) if report.backup else None,
            backups=[str(path) for path in report.backups],
            seconds=round(report.seconds, 3),
            notes=list(report.notes),
        )
