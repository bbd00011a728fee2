"""What `codequorum fix` needs from a language: where a test failure points, and the code there.

A small protocol of its own, so that a language plugin opts in by implementing it (Python does,
in `python_failures.py`); `fix` tells the user when a file's language does not.
Lines are 1-based throughout, as tracebacks and editors count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class FailureFrame:
    """One place a failure output names: a file (as printed), a line, the function if given."""

    path: str
    line: int
    function: str | None = None


@dataclass(frozen=True)
class Definition:
    """A function (or method) in a source file: lines `start`..`end`, decorators included."""

    name: str
    start: int
    end: int
    indent: str  # the whitespace before its first line: methods are indented

    def contains(self, line: int) -> bool:
        return self.start <= line <= self.end


@runtime_checkable
class FailureLocator(Protocol):
    def failure_frames(self, output: str) -> list[FailureFrame]:
        """Frames the output names, outermost first (innermost, where it failed, last)."""
        ...

    def is_test_file(self, path: str) -> bool: ...

    def definitions(self, source: str) -> list[Definition]:
        """Every function definition, nested ones included, in source order."""
        ...

    def called_names(self, source: str, line: int, last: int | None = None) -> list[str]:
        """Names of the functions called on that line, or on lines `line`..`last` (a function's
        body: its callees), in source order (`f` for `f(x)` and for `obj.f(x)`)."""
        ...
