"""What the user wants, independent of any model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from codequorum.vocabulary.scope import Scope, scope_at


class TaskKind(str, Enum):
    COMPLETE = "complete"  # fill in code at a cursor
    GENERATE = "generate"  # write code from an instruction
    FIX = "fix"  # repair code so that failing tests pass


@dataclass(frozen=True)
class ContextSnippet:
    """A piece of another file that may help the model (from open documents)."""

    path: str
    text: str


@dataclass(frozen=True)
class Budget:
    """Limits for one request: wall-clock deadline, cost ceiling, and how long to wait for
    slower members once one has answered.

    The deadline bounds waiting for *more* answers once one exists: while no member has
    answered yet, work goes on past it until the first answer or `hard_cap_s`, so a busy
    machine gets a late answer rather than none.
    """

    deadline_s: float | None = None
    hard_cap_s: float | None = None  # None: the deadline is also the cap
    max_cost: float | None = None
    # Once the first of several members asked together has answered, the others get this
    # fraction of its time more (within the deadline); None waits for all of them.
    settle_ratio: float | None = None


@dataclass(frozen=True)
class Request:
    kind: TaskKind
    language: str | None = None
    prefix: str = ""  # document text before the cursor (COMPLETE, FIX)
    suffix: str = ""  # document text after the cursor
    instruction: str | None = None  # GENERATE / FIX: what to do
    tests: str | None = None  # visible tests, if any
    path: Path | None = None
    context: tuple[ContextSnippet, ...] = ()
    functions: tuple[str, ...] = ()  # FIX: the names of the functions in `prefix`, when several
    max_tokens: int = 128
    scope: Scope | None = None  # COMPLETE: decided once, before any model runs
    budget: Budget = field(default_factory=Budget)
    created_at: float = field(default_factory=time.monotonic)

    def seconds_left(self) -> float | None:
        """Seconds until the deadline, or None when there is none."""
        if self.budget.deadline_s is None:
            return None
        return self.budget.deadline_s - (time.monotonic() - self.created_at)

    def seconds_to_cap(self) -> float | None:
        """Seconds until the hard cap (the deadline when there is no separate cap)."""
        cap = self.budget.hard_cap_s
        if cap is None:
            return self.seconds_left()
        if self.budget.deadline_s is not None:
            cap = max(cap, self.budget.deadline_s)
        return cap - (time.monotonic() - self.created_at)


MAX_PREFIX_CHARS = 6000
MAX_SUFFIX_CHARS = 2000


def completion_request(
    text: str,
    offset: int,
    language: str | None = None,
    path: Path | None = None,
    **fields: object,
) -> Request:
    """A COMPLETE request for a cursor at `offset`, with the text around it clipped.

    The window is cut at line boundaries so that the model never sees half a line. Without
    a `scope` the text decides it (`core.scope.scope_at`).
    """
    prefix = _clip_start(text[:offset], MAX_PREFIX_CHARS)
    suffix = _clip_end(text[offset:], MAX_SUFFIX_CHARS)
    fields.setdefault("scope", scope_at(prefix, suffix))
    return Request(TaskKind.COMPLETE, language, prefix, suffix, path=path, **fields)  # type: ignore[arg-type]


def offset_of(text: str, line: int, column: int) -> int:
    """Offset of a 1-based line and column (the cursor sits before that column)."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise ValueError(f"line {line} is outside the file (1..{len(lines)})")
    if not 1 <= column <= len(lines[line - 1]) + 1:
        raise ValueError(f"column {column} is outside line {line} (1..{len(lines[line - 1]) + 1})")
    return sum(len(row) + 1 for row in lines[: line - 1]) + column - 1


def _clip_start(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.find("\n", len(text) - limit)
    return text[cut + 1:] if cut != -1 else text[-limit:]


def _clip_end(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[:cut + 1] if cut != -1 else text[:limit]
